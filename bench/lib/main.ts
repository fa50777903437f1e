// A benchmark's entry point: exits with the code its checks set (process.exitCode, e.g. a click
// lost), or 1 after printing a crash. Exiting explicitly ends the handles a bench leaves behind.
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
