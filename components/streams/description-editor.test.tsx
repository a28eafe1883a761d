// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StreamDescription } from "./description-editor";

// The component refreshes the page through Next's router after saving; outside Next there is none.
vi.mock("next/navigation", () => ({ useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

afterEach(cleanup);

describe("StreamDescription", () => {
  it("renders the markdown for everyone and offers no editing to teams that cannot edit", () => {
    render(<StreamDescription team="ads" stream="dwd.clicks" description={"One record per **click**."} canEdit={false} />);
    expect(screen.getByText("click").tagName).toBe("STRONG");
    expect(screen.queryByRole("button", { name: /description/i })).toBeNull();
  });

  it("lets editors write and preview with the page's renderer, and cancel without changing it", async () => {
    const user = userEvent.setup();
    render(<StreamDescription team="ads" stream="dwd.clicks" description="" canEdit />);
    await user.click(screen.getByRole("button", { name: "Add description" }));
    await user.type(screen.getByLabelText("Description (markdown)"), "## Fields{enter}{enter}- [[docs](https://example.com)");
    expect(screen.getByText(/\/20,000/).textContent).toContain("40/20,000");
    await user.click(screen.getByRole("tab", { name: "Preview" }));
    const preview = screen.getByTestId("description-preview");
    expect(preview.querySelector("h4")?.textContent).toBe("Fields");
    expect(screen.getByRole("link", { name: "docs" }).getAttribute("rel")).toBe("noopener noreferrer nofollow");
    await user.click(screen.getByRole("tab", { name: "Write" }));
    expect((screen.getByLabelText("Description (markdown)") as HTMLTextAreaElement).value).toBe("## Fields\n\n- [docs](https://example.com)");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.getByRole("button", { name: "Add description" })).toBeTruthy();
    expect(screen.queryByTestId("markdown")).toBeNull();
  });
});
