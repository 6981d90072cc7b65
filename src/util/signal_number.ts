/**
 * The number behind a signal name, per platform: the shell convention reports death by signal
 * n as exit status 128 + n, and Deno names signals without numbering them. Linux and macOS
 * agree on the classic ones (HUP, INT, QUIT, KILL, TERM...) and differ on others (USR1 is 10 on
 * Linux and 30 on macOS).
 */
type Table = Readonly<Partial<Record<Deno.Signal, number>>>;

const SHARED = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
} as const satisfies Table;

export const SIGNAL_NUMBERS: Readonly<Record<"linux" | "darwin", Table>> = {
  linux: {
    ...SHARED,
    SIGBUS: 7,
    SIGUSR1: 10,
    SIGUSR2: 12,
    SIGSTKFLT: 16,
    SIGCHLD: 17,
    SIGCONT: 18,
    SIGSTOP: 19,
    SIGTSTP: 20,
    SIGURG: 23,
    SIGIO: 29,
    SIGPWR: 30,
    SIGSYS: 31,
  },
  darwin: {
    ...SHARED,
    SIGEMT: 7,
    SIGBUS: 10,
    SIGSYS: 12,
    SIGURG: 16,
    SIGSTOP: 17,
    SIGTSTP: 18,
    SIGCONT: 19,
    SIGCHLD: 20,
    SIGIO: 23,
    SIGINFO: 29,
    SIGUSR1: 30,
    SIGUSR2: 31,
  },
};

/** The signal's number on `os` (default: this one); undefined where it has none. */
export function signalNumber(
  signal: Deno.Signal,
  os: typeof Deno.build.os = Deno.build.os,
): number | undefined {
  return SIGNAL_NUMBERS[os === "darwin" ? "darwin" : "linux"][signal];
}
