import {
  color,
  figures,
  ListrEventType,
  Spinner,
  type ListrEventManager,
  type ListrRendererFactory,
  type ListrTaskObject,
  type ProcessOutput,
} from 'listr2';

/** What the live view gives its renderer. */
export interface FrameSource {
  /** Minimum time between two frames; also the spinner's tick. */
  frameMs: number;
  /** Writes frames, and holds back other writes to the streams while drawing. */
  processOutput: ProcessOutput;
  /** Brings task titles up to date; called right before each frame. */
  beforeFrame(): void;
  /** Lines to print above the rows, taken (the source forgets them). */
  takeAbove(): string[];
  /** The renderer listr2 created, so the view can ask it for frames. */
  created(renderer: { update(): void }): void;
  /** Drawing failed; the renderer stops drawing (a broken view must not fail a deploy). */
  failed(error: unknown): void;
}

type AnyTask = ListrTaskObject<unknown, ListrRendererFactory, ListrRendererFactory>;

const ERASE_LINE = '\x1b[2K';
const CURSOR_UP = '\x1b[1A';
const CURSOR_TO_COLUMN_1 = '\x1b[G';

/**
 * A listr2 renderer (the documented custom-renderer extension point) for
 * flat lists of one-line tasks whose titles fit the terminal.
 *
 * Why not listr2's default renderer: it redraws the whole tree on every
 * title or state change, and each frame goes through cli-truncate per row
 * and log-update's wrap-ansi, which measures string width per character.
 * Measured here: ~40 ms CPU per frame of 30 rows, i.e. 40% of a core at 10
 * frames a second (see test/bench/live-view.ts). This renderer keeps
 * listr2's task states, icons and spinner and its ProcessOutput (which
 * holds back stray writes while drawing), but:
 * - coalesces every change and spinner tick into at most one frame per
 *   `frameMs`, and asks the view for titles only then;
 * - trusts titles to be one line that fits (the view truncates them), so a
 *   frame is built by concatenation and written in one write: erase the last
 *   frame, lines to print above it, the new frame;
 * - skips the write when nothing changed.
 * Tasks with an empty title are not drawn.
 *
 * `nonTTY` is true because the caller decides where to draw (attachViews
 * checks the TTY); listr2 would otherwise pick its fallback renderer
 * whenever process.stdout is not a TTY.
 */
export function rowsRenderer(source: FrameSource): ListrRendererFactory {
  return class RowsRenderer {
    static nonTTY = true;
    static rendererOptions: Record<PropertyKey, never> = {};
    static rendererTaskOptions: Record<PropertyKey, never> = {};

    readonly #tasks: readonly AnyTask[];
    readonly #spinner = new Spinner();
    #drawing = false;
    #broken = false;
    #timer: NodeJS.Timeout | undefined;
    #last = 0;
    #previous = '';
    #lines = 0;

    constructor(tasks: AnyTask[], _options: unknown, events?: ListrEventManager) {
      this.#tasks = tasks;
      events?.on(ListrEventType.SHOULD_REFRESH_RENDER, () => this.update());
      source.created(this);
    }

    render(): void {
      source.processOutput.hijack();
      this.#drawing = true;
      process.once('exit', this.#atExit);
      this.#spinner.start(() => this.update(), source.frameMs);
      this.update();
    }

    /** Asks for a frame: drawn at once if the last one is `frameMs` old, else when it is. */
    update(): void {
      if (!this.#drawing || this.#broken || this.#timer) return;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#frame();
      }, Math.max(0, this.#last + source.frameMs - Date.now()));
    }

    end(): void {
      this.#spinner.stop();
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#frame(); // the final one: the rows stay on screen
      this.#drawing = false;
      process.off('exit', this.#atExit);
      try {
        source.processOutput.release();
      } catch (error) {
        source.failed(error);
      }
    }

    /** A process that exits without ending the view still gets its cursor and held-back output back. */
    readonly #atExit = (): void => {
      if (this.#drawing) source.processOutput.release();
    };

    #frame(): void {
      if (this.#broken) return;
      this.#last = Date.now();
      try {
        source.beforeFrame();
        const above = source.takeAbove();
        const frame = this.#rows();
        if (frame === this.#previous && above.length === 0) return;
        let out = this.#erase();
        if (above.length > 0) out += above.join('\n') + '\n';
        source.processOutput.toStdout(out + frame, false);
        this.#previous = frame;
        this.#lines = frame.split('\n').length;
      } catch (error) {
        this.#broken = true;
        source.failed(error);
      }
    }

    #rows(): string {
      let frame = '';
      for (const task of this.#tasks) {
        if (!task.title) continue;
        frame += `${this.#icon(task)} ${task.title}\n`;
      }
      return frame;
    }

    #icon(task: AnyTask): string {
      if (task.isCompleted()) return color.green(figures.tick);
      if (task.hasFailed()) return color.red(figures.cross);
      if (task.isSkipped()) return color.yellow(figures.arrowDown);
      if (task.isStarted() || task.isPending()) return color.yellow(this.#spinner.fetch());
      return color.dim(figures.squareSmallFilled);
    }

    /** Moves the cursor back over the last frame, erasing it (as log-update does). */
    #erase(): string {
      if (this.#lines === 0) return '';
      let out = '';
      for (let i = 0; i < this.#lines; i++) out += ERASE_LINE + (i < this.#lines - 1 ? CURSOR_UP : '');
      return out + CURSOR_TO_COLUMN_1;
    }
  };
}
