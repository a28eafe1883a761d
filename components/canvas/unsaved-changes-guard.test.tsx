// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { requestNavigation } from "@/components/ui/navigation-guard";
import { UnsavedChangesGuard } from "./unsaved-changes-guard";

// The App Router is not mounted in jsdom; the guard only needs push().
const push = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));

/** Stands in for Next's <Link>: a React click handler on an anchor that navigates client-side. */
function Page({ dirty, onLinkClick }: { dirty: boolean; onLinkClick: () => void }) {
  return (
    <>
      <a href="/t/acme/streams?layer=DWD" onClick={(e) => { e.preventDefault(); onLinkClick(); }}>Streams</a>
      <a href="https://example.test/docs" onClick={(e) => { e.preventDefault(); onLinkClick(); }}>Outside</a>
      <a href="/t/acme/streams" target="_blank" onClick={(e) => { e.preventDefault(); onLinkClick(); }}>New tab</a>
      <UnsavedChangesGuard dirty={dirty} />
    </>
  );
}

beforeEach(() => {
  push.mockReset();
  window.history.replaceState(null, "", "/t/acme/pipelines/orders");
});
afterEach(cleanup);

describe("UnsavedChangesGuard", () => {
  it("lets links through when nothing is unsaved", async () => {
    const onLinkClick = vi.fn();
    render(<Page dirty={false} onLinkClick={onLinkClick} />);
    await userEvent.click(screen.getByText("Streams"));
    expect(onLinkClick).toHaveBeenCalledOnce();
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("holds an in-app link while there are unsaved edits: stay keeps the page, discard navigates", async () => {
    const onLinkClick = vi.fn();
    render(<Page dirty onLinkClick={onLinkClick} />);
    await userEvent.click(screen.getByText("Streams"));
    expect(onLinkClick).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Stay on the canvas" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(push).not.toHaveBeenCalled();

    await userEvent.click(screen.getByText("Streams"));
    await userEvent.click(screen.getByRole("button", { name: "Discard changes and leave" }));
    expect(push).toHaveBeenCalledWith("/t/acme/streams?layer=DWD");
    expect(onLinkClick).not.toHaveBeenCalled();
  });

  it("leaves other origins, new tabs and modified clicks to the browser", async () => {
    const onLinkClick = vi.fn();
    render(<Page dirty onLinkClick={onLinkClick} />);
    await userEvent.click(screen.getByText("Outside"));
    await userEvent.click(screen.getByText("New tab"));
    fireEvent.click(screen.getByText("Streams"), { ctrlKey: true });
    expect(onLinkClick).toHaveBeenCalledTimes(3);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("holds router.push navigations that ask first (the team switcher) while dirty", async () => {
    const { rerender } = render(<UnsavedChangesGuard dirty={false} />);
    expect(requestNavigation("/t/other/pipelines")).toBe(true);
    rerender(<UnsavedChangesGuard dirty />);
    let allowed = true;
    act(() => {
      allowed = requestNavigation("/t/other/pipelines");
    });
    expect(allowed).toBe(false);
    await userEvent.click(screen.getByRole("button", { name: "Discard changes and leave" }));
    expect(push).toHaveBeenCalledWith("/t/other/pipelines");
  });

  it("asks the browser to confirm a reload or close only while dirty", () => {
    const { rerender } = render(<UnsavedChangesGuard dirty />);
    const ev = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    rerender(<UnsavedChangesGuard dirty={false} />);
    const clean = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(clean);
    expect(clean.defaultPrevented).toBe(false);
  });
});
