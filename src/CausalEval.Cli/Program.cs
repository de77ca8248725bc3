using System.Runtime.InteropServices;
using CausalEval.Cli;

// Ctrl-C (or SIGTERM) stops scheduling new trials; trials in flight finish and are written (no paid answer is
// thrown away), run.json records "interrupted" and the resume command is printed. A second Ctrl-C ends the
// process at once.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
// Questions (e.g. whether to cancel a run's batches at the provider after Ctrl-C) only when someone is at the terminal.
Func<string, bool>? ask = Console.IsInputRedirected ? null : question =>
{
    Console.Error.Write($"{question} [y/N] ");
    return Console.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
};
return await CliApp.RunAsync(args, Console.Out, Console.Error, stop.Token, ask);
