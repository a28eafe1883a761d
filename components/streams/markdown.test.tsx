// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown } from "./markdown";

afterEach(cleanup);

describe("Markdown stream descriptions", () => {
  it("renders GitHub-flavoured markdown: headings, emphasis, lists, tables", () => {
    const { container } = render(<Markdown>{"# Clicks\n\nOne **record** per click.\n\n- id\n- ts\n\n| field | meaning |\n|---|---|\n| id | user |\n"}</Markdown>);
    expect(screen.getByRole("heading", { name: "Clicks" })).toBeTruthy();
    expect(container.querySelector("strong")?.textContent).toBe("record");
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["id", "ts"]);
    expect(screen.getByRole("table").textContent).toContain("meaning");
  });

  it("drops raw HTML instead of rendering it", () => {
    const { container } = render(<Markdown>{'Hi <script>alert(1)</script><img src=x onerror="alert(2)"> <b>bold</b> there'}</Markdown>);
    expect(container.querySelector("script, img, b")).toBeNull();
    expect(container.innerHTML).not.toContain("onerror");
    expect(container.textContent).toContain("Hi");
    expect(container.textContent).toContain("there");
  });

  it("gives links rel=noopener noreferrer nofollow and strips javascript: URLs", () => {
    render(<Markdown>{"See [the docs](https://example.com/docs) and https://example.org, not [this](javascript:alert(1))."}</Markdown>);
    const docs = screen.getByRole("link", { name: "the docs" });
    expect(docs.getAttribute("href")).toBe("https://example.com/docs");
    expect(docs.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    expect(screen.getByRole("link", { name: "https://example.org" }).getAttribute("rel")).toBe("noopener noreferrer nofollow");
    const bad = screen.getByText("this");
    expect(bad.getAttribute("href") ?? "").not.toContain("javascript");
  });
});
