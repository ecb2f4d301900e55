import * as vscode from 'vscode';
import { StatusView, parseStatus, restartingView, startingView, statusView, stoppedView } from './status';

/** The `safemig` status bar item; clicking it shows the migration status. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('safemig.status', vscode.StatusBarAlignment.Left, 0);
    this.item.name = 'safemig';
    this.item.command = 'safemig.showMigrationStatus';
    this.apply(startingView());
    this.item.show();
  }

  starting(): void {
    this.apply(startingView());
  }

  restarting(delayMs: number, reason: string): void {
    this.apply(restartingView(delayMs, reason));
  }

  stopped(reason: string): void {
    this.apply(stoppedView(reason));
  }

  /** A `safemig/status` notification; malformed params are ignored. */
  serverStatus(params: unknown): void {
    const status = parseStatus(params);
    if (status !== undefined) {
      this.apply(statusView(status));
    }
  }

  private apply(view: StatusView): void {
    // Not running: a click tries again (and shows what is wrong); otherwise the migration status.
    this.item.command = view.retry ? 'safemig.restartServer' : 'safemig.showMigrationStatus';
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.background === undefined ? undefined : new vscode.ThemeColor(`statusBarItem.${view.background}Background`);
  }

  dispose(): void {
    this.item.dispose();
  }
}
