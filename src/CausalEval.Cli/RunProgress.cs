using System.Globalization;
using Spectre.Console;

namespace CausalEval.Cli;

/// <summary>
/// Run progress on standard error: a Spectre.Console bar on an interactive terminal, plain lines (every 10%)
/// when output is redirected, nothing when quiet.
/// </summary>
internal abstract class RunProgress : IProgress<long>, IDisposable
{
    public static RunProgress Create(CliConsole console, long total, bool quiet)
    {
        if (quiet || total == 0)
        {
            return new Silent();
        }
        var interactive = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;
        return interactive ? new Bar(total) : new Lines(console.Error, total);
    }

    public abstract void Report(long value);

    public virtual void Dispose()
    {
    }

    private sealed class Silent : RunProgress
    {
        public override void Report(long value)
        {
        }
    }

    private sealed class Lines(TextWriter error, long total) : RunProgress
    {
        private long _nextTenth = 1;

        public override void Report(long value)
        {
            while (_nextTenth <= 10 && value * 10 >= total * _nextTenth)
            {
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"progress: {value}/{total} trials ({_nextTenth * 10}%)"));
                _nextTenth++;
            }
        }
    }

    private sealed class Bar : RunProgress
    {
        private readonly Task _rendering;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _completed;

        public Bar(long total)
        {
            // Standard error is a terminal (checked by the caller) even when standard output is redirected.
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(Console.Error),
                Ansi = AnsiSupport.Yes,
                Interactive = InteractionSupport.Yes,
            });
            _rendering = console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("trials", maxValue: total);
                    while (!_done.Task.IsCompleted)
                    {
                        task.Value = Interlocked.Read(ref _completed);
                        await Task.WhenAny(_done.Task, Task.Delay(100)).ConfigureAwait(false);
                    }
                    task.Value = Interlocked.Read(ref _completed);
                });
        }

        public override void Report(long value) => Interlocked.Exchange(ref _completed, value);

        public override void Dispose()
        {
            _done.TrySetResult();
            _rendering.GetAwaiter().GetResult();
        }
    }
}
