import { execa } from "execa";

export type Env = Record<string, string | undefined>;

export interface FlyctlResult {
  ok: boolean;
  exitCode: number;
  stdout: string;
  /** flyctl's own explanation of a failure: the last lines of stderr (or of all output), secrets redacted. */
  errorLines: string[];
}

export interface RunOptions {
  /** Written to flyctl's stdin (secrets go here, never on argv). Without it stdin is closed. */
  input?: string;
  /** Called with every line flyctl prints, as it prints it. */
  onLine?: (line: string) => void;
}

/** flyctl, found on PATH, run with argv arrays in the project directory. */
export interface Flyctl {
  /** The command that was found: "flyctl" or "fly". */
  bin: string;
  version: string;
  run(args: string[], options?: RunOptions): Promise<FlyctlResult>;
  /** Values to blank out of anything flyctl prints before it is shown. */
  redact(values: string[]): void;
}

const MAX_ERROR_LINES = 15;

/** Finds `flyctl` (or `fly`) on the PATH of `env`; undefined when neither runs. */
export async function findFlyctl(cwd: string, env: Env): Promise<Flyctl | undefined> {
  for (const bin of ["flyctl", "fly"]) {
    const result = await execa(bin, ["version"], { cwd, env, extendEnv: false, reject: false, stdin: "ignore" });
    if (result.exitCode === 0) {
      const version = /\d+\.\d+\.\d+[\w.+-]*/.exec(result.stdout)?.[0] ?? result.stdout.trim();
      return createFlyctl(bin, version, cwd, env);
    }
  }
  return undefined;
}

function createFlyctl(bin: string, version: string, cwd: string, env: Env): Flyctl {
  const hidden: string[] = [];
  const clean = (line: string) => hidden.reduce((text, value) => text.split(value).join("[redacted]"), line);

  return {
    bin,
    version,
    redact(values) {
      hidden.push(...values.filter((v) => v.length > 0));
    },
    async run(args, { input, onLine } = {}) {
      const tap = onLine
        ? function* (line: unknown) {
            onLine(clean(String(line)));
            yield line;
          }
        : undefined;
      const result = await execa(bin, args, {
        cwd,
        env,
        extendEnv: false,
        reject: false,
        all: true,
        ...(input === undefined ? { stdin: "ignore" as const } : { input }),
        ...(tap ? { stdout: tap, stderr: tap } : {}),
      });
      const lines = (text: string | undefined) => (text ?? "").split("\n").map((l) => clean(l).trimEnd()).filter(Boolean);
      const stderr = lines(result.stderr);
      return {
        ok: result.exitCode === 0,
        exitCode: result.exitCode ?? 1,
        stdout: result.stdout ?? "",
        errorLines: (stderr.length > 0 ? stderr : lines(result.all)).slice(-MAX_ERROR_LINES),
      };
    },
  };
}
