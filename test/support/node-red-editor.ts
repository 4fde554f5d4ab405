import type { Locator, Page } from "playwright-core";

/** A notification the editor showed (its toasts fade, so each is recorded as it appears). */
export interface Notification {
  type: string;
  text: string;
}

/** The page's global that RECORD_NOTIFICATIONS fills. */
interface Recorded {
  __notifications: Notification[];
}

/** Records every notification toast the editor adds, from before its own scripts run. */
const RECORD_NOTIFICATIONS = `
window.__notifications = [];
new MutationObserver((mutations) => {
  for (const mutation of mutations) {
    for (const added of mutation.addedNodes) {
      if (added.classList && added.classList.contains("red-ui-notification")) {
        const type = [...added.classList].find((c) => c.startsWith("red-ui-notification-")) || "red-ui-notification-info";
        window.__notifications.push({ type: type.replace("red-ui-notification-", ""), text: added.textContent.trim() });
      }
    }
  }
}).observe(document, { childList: true, subtree: true });
`;

/** The entries of an object or an array in the Debug sidebar, one level down. */
const ENTRIES = [":scope > .red-ui-debug-msg-object-entry > .red-ui-debug-msg-element", ":scope > .red-ui-debug-msg-array-rows > .red-ui-debug-msg-object-entry > .red-ui-debug-msg-element"].join(", ");

/** Matches this text and nothing more (hasText alone matches a part). */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** Text as a person reads it: the editor breaks labels into spans and spaces. */
export function normalised(text: string | null): string {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

/**
 * The Node-RED 4.1 editor, driven the way a person uses it: palette, workspace, edit
 * trays, the main menu, Deploy and the Debug sidebar. Selectors are Node-RED's own ids
 * and classes; nothing here calls the editor's JavaScript API.
 */
export class NodeRedEditor {
  private constructor(readonly page: Page) {}

  static async open(page: Page, url: string): Promise<NodeRedEditor> {
    await page.addInitScript(RECORD_NOTIFICATIONS);
    await page.goto(url);
    await page.locator(".red-ui-palette-node").first().waitFor();
    const editor = new NodeRedEditor(page);
    await editor.declineUpdateNotifications(url);
    return editor;
  }

  /**
   * Node-RED 4 asks whether to check for updates as long as its settings hold no answer
   * (no `telemetryEnabled`); the question is a modal that blocks the page.
   */
  private async declineUpdateNotifications(url: string): Promise<void> {
    const settings = (await (await fetch(`${url}/settings`)).json()) as { telemetryEnabled?: boolean };
    if (settings.telemetryEnabled !== undefined) return;
    const decline = this.page.getByRole("button", { name: "No, do not enable notifications" });
    await decline.click();
    await this.page.locator(".red-ui-shade").first().waitFor({ state: "hidden" });
  }

  async notifications(): Promise<Notification[]> {
    return this.page.evaluate(() => (globalThis as unknown as Recorded).__notifications.slice());
  }

  paletteCategory(name: string): Locator {
    return this.page.locator(".red-ui-palette-category").filter({ has: this.page.locator(".red-ui-palette-header", { hasText: name }) });
  }

  paletteEntry(type: string): Locator {
    return this.page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  }

  /** Collapses every palette category, then opens this one, so it shows whole at the top. */
  async showOnlyPaletteCategory(name: string): Promise<void> {
    await this.page.locator("#red-ui-palette .red-ui-component-footer button").filter({ has: this.page.locator(".fa-angle-double-up") }).click();
    await this.paletteCategory(name).locator(".red-ui-palette-header").click();
  }

  /** A real mouse drag from a palette entry to a point of the workspace. */
  async dragFromPalette(type: string, to: { x: number; y: number }): Promise<void> {
    const entry = this.paletteEntry(type);
    await entry.scrollIntoViewIfNeeded();
    const box = await entry.boundingBox();
    if (!box) throw new Error(`the palette entry ${type} is not visible`);
    const workspace = await this.page.locator("#red-ui-workspace-chart").boundingBox();
    if (!workspace) throw new Error("the workspace is not visible");
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await this.page.mouse.move(from.x, from.y);
    await this.page.mouse.down();
    // jQuery UI starts a drag only after the pointer has moved with the button down
    await this.page.mouse.move(from.x + 10, from.y, { steps: 2 });
    await this.page.mouse.move(workspace.x + to.x, workspace.y + to.y, { steps: 10 });
    await this.page.mouse.up();
  }

  /** The nodes drawn on the active flow's workspace. */
  workspaceNodes(): Locator {
    return this.page.locator("#red-ui-workspace-chart g.red-ui-flow-node-group");
  }

  workspaceNode(label: string): Locator {
    return this.workspaceNodes().filter({ has: this.page.locator(".red-ui-flow-node-label", { hasText: exactly(label) }) });
  }

  /** A node by its id, which the editor gives its drawing; an imported node keeps the id it has in the file. */
  workspaceNodeWithId(id: string): Locator {
    return this.workspaceNodes().and(this.page.locator(`[id="${id}"]`));
  }

  /**
   * A node's status when it shows the green dot: our nodes' look for working (ready or
   * scoring, connected, subscribed), whatever the text says at that moment.
   */
  greenStatus(node: Locator): Locator {
    return node.locator(".red-ui-flow-node-status-dot-green");
  }

  /** A node's status label, when its text matches. */
  statusSaying(node: Locator, text: RegExp): Locator {
    return node.locator(".red-ui-flow-node-status-label", { hasText: text });
  }

  /** Opens a node's edit tray by double-clicking it; returns the tray. */
  async editNode(node: Locator): Promise<Locator> {
    await node.locator("rect.red-ui-flow-node").dblclick();
    const tray = this.page.locator(".red-ui-tray").last();
    // the buttons exist before the form is prepared and the tray has slid in: wait until it stands still
    await tray.locator("#node-dialog-ok").click({ trial: true });
    return tray;
  }

  /** Opens the config node a node's property refers to with the pencil beside it. */
  async editConfigNodeOf(property: string): Promise<Locator> {
    await this.page.locator(`#node-input-btn-${property}-edit`).click();
    const tray = this.page.locator(".red-ui-tray").last();
    await tray.locator("#node-config-dialog-ok").waitFor();
    return tray;
  }

  /** Main menu > Import > Examples > the package > its folders > the example > Import. */
  async importExample(treePath: string[]): Promise<void> {
    await this.page.locator("#red-ui-header-button-sidemenu").click();
    await this.page.locator("#menu-item-import").click();
    await this.page.locator("#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples").click();
    // the dialog builds a new tree each time it opens, and may leave the last one hidden
    const tree = this.page.locator("#red-ui-clipboard-dialog-import-tab-examples:visible");
    // each level is looked for inside the one above, once that has loaded its folders
    // (lazily); a click on an open folder would close it
    const itemIn = (scope: Locator, name: string): Locator =>
      scope.locator(".red-ui-editableList-item-content").filter({ has: this.page.locator(":scope > .red-ui-treeList-label", { hasText: exactly(name) }) }).first();
    let item = itemIn(tree, treePath[0]);
    for (const name of treePath.slice(1)) {
      const next = itemIn(item, name);
      // a folder's state may still be settling from the dialog's last use: click it only
      // while it is closed, and again if its content has not shown up after a while
      for (let attempt = 0; !(await next.isVisible()); attempt++) {
        if (attempt === 3) throw new Error(`the folder holding ${name} did not open in Import > Examples`);
        if (!/\bexpanded\b/.test((await item.getAttribute("class")) ?? "")) await item.locator(":scope > .red-ui-treeList-label").click();
        await next.waitFor({ state: "visible", timeout: 5_000 }).catch(() => undefined);
      }
      item = next;
    }
    await item.locator(":scope > .red-ui-treeList-label").click();
    await this.page.locator("#red-ui-clipboard-dialog-ok").click();
    await this.page.locator("#red-ui-clipboard-dialog-ok").waitFor({ state: "hidden" });
  }

  async showFlow(label: string): Promise<void> {
    await this.page.locator("#red-ui-workspace-tabs .red-ui-tab").filter({ hasText: label }).click();
  }

  /** Clicks Deploy and waits for the editor's answer, success or not. */
  async deploy(): Promise<void> {
    const before = (await this.notifications()).length;
    await this.page.locator("#red-ui-header-button-deploy").click();
    await this.page.waitForFunction(
      (count) => (globalThis as unknown as Recorded).__notifications.length > count,
      before,
    );
  }

  async zoomOut(): Promise<void> {
    await this.page.locator("#red-ui-view-zoom-out").click();
  }

  async showDebugSidebar(): Promise<void> {
    await this.page.locator("#red-ui-tab-debug-link-button").click();
    await this.page.locator("#red-ui-sidebar-debug-clear").waitFor();
  }

  async clearDebug(): Promise<void> {
    await this.page.locator("#red-ui-sidebar-debug-clear").click();
  }

  /** The Debug sidebar's filter: only messages from the flow on show. */
  async debugCurrentFlowOnly(): Promise<void> {
    await this.page.locator("#red-ui-sidebar-debug-filter").click();
    await this.page.locator('input[name="filter-type"][value="filterCurrent"]').click();
    await this.page.keyboard.press("Escape");
  }

  /** Messages in the Debug sidebar (those the filter shows), from one debug node when named. */
  debugMessages(nodeName?: string): Locator {
    const messages = this.page.locator("#red-ui-sidebar-content .red-ui-debug-msg:visible");
    return nodeName ? messages.filter({ has: this.page.locator(".red-ui-debug-msg-name", { hasText: `node: ${nodeName}` }) }) : messages;
  }

  /**
   * Opens the property path of a message in the Debug sidebar (as a person clicks the
   * little triangles) and returns the entries it shows, each key with its value text.
   */
  async expandDebugMessage(message: Locator, keys: string[]): Promise<Map<string, string>> {
    // a click toggles: open only what is still closed
    const open = async (element: Locator): Promise<void> => {
      if (/\bcollapsed\b/.test((await element.getAttribute("class")) ?? "")) await element.locator(":scope > .red-ui-debug-msg-row").click();
    };
    let element = message.locator(".red-ui-debug-msg-top-level");
    await open(element);
    for (const key of keys) {
      element = element
        .locator(ENTRIES)
        .filter({ has: this.page.locator(":scope > .red-ui-debug-msg-row > .red-ui-debug-msg-object-key", { hasText: exactly(key) }) });
      await open(element);
    }
    const rows = element.locator(ENTRIES).locator(":scope > .red-ui-debug-msg-row");
    await rows.first().waitFor();
    const entries = new Map<string, string>();
    for (const row of await rows.all()) {
      const key = normalised(await row.locator(":scope > .red-ui-debug-msg-object-key").textContent());
      entries.set(key, normalised(await row.locator(":scope > .red-ui-debug-msg-object-value").textContent()));
    }
    return entries;
  }
}
