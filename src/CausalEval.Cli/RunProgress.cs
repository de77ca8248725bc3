using System.Globalization;
using CausalEval.Core.Running;
using Spectre.Console;

namespace CausalEval.Cli;

/// <summary>
/// Run progress on standard error: trials done of total, errors, cost so far, rate and time left. A Spectre.Console bar
/// on an interactive terminal; plain lines when output is redirected — one at every 10% of the trials and at least one
/// every <see cref="Heartbeat"/> (so a slow trial in flight never leaves a log silent), each with the counts as they
/// are; nothing when quiet.
/// </summary>
internal abstract class RunProgress : IProgress<RunCounters>, IDisposable
{
    /// <summary>The longest a redirected run goes without a progress line.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);

    public static RunProgress Create(CliConsole console, long total, bool quiet, TimeProvider time, bool showCost)
    {
        if (quiet || total == 0)
        {
            return new Silent();
        }
        var interactive = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;
        return interactive ? Terminal(Console.Error, total, time, showCost) : new Lines(console.Error, total, time, showCost);
    }

    /// <summary>The bar, drawn with ANSI codes on <paramref name="terminal"/> (standard error when interactive).</summary>
    internal static RunProgress Terminal(TextWriter terminal, long total, TimeProvider time, bool showCost) => new Bar(terminal, total, time, showCost);

    public abstract void Report(RunCounters value);

    public virtual void Dispose()
    {
    }

    /// <summary>"12/40 trials (30%), 1 error, $0.0123, 4.2 trials/min, about 6m 20s left".</summary>
    internal static string Describe(RunCounters c, long total, TimeSpan elapsed, bool showCost)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{c.Done}/{total} trials ({(total == 0 ? 100 : c.Done * 100 / total)}%)");
        text.Append(CultureInfo.InvariantCulture, $", {c.Errors} {(c.Errors == 1 ? "error" : "errors")}");
        if (showCost)
        {
            text.Append(CultureInfo.InvariantCulture, $", ${c.CostUsd:0.0000}");
        }
        if (c.Done > 0 && elapsed > TimeSpan.Zero)
        {
            var perMinute = c.Done / elapsed.TotalMinutes;
            text.Append(CultureInfo.InvariantCulture, $", {perMinute:0.#} trials/min");
            if (c.Done < total)
            {
                text.Append(", about ").Append(Span(TimeSpan.FromMinutes((total - c.Done) / perMinute))).Append(" left");
            }
        }
        return text.ToString();
    }

    private static string Span(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(long)t.TotalHours}h {t.Minutes:00}m")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m {t.Seconds:00}s");

    private sealed class Silent : RunProgress
    {
        public override void Report(RunCounters value)
        {
        }
    }

    private sealed class Lines : RunProgress
    {
        private readonly object _gate = new();
        private readonly TextWriter _error;
        private readonly long _total;
        private readonly TimeProvider _time;
        private readonly bool _showCost;
        private readonly long _started;
        private readonly ITimer _heartbeat;
        private RunCounters _latest;
        private long _nextTenth = 1;
        private long _lastLine;

        public Lines(TextWriter error, long total, TimeProvider time, bool showCost)
        {
            _error = error;
            _total = total;
            _time = time;
            _showCost = showCost;
            _started = _lastLine = time.GetTimestamp();
            // Checked often, so a line is due at most a little after the heartbeat whatever the timer's phase.
            _heartbeat = time.CreateTimer(_ => Beat(), null, Heartbeat / 6, Heartbeat / 6);
        }

        public override void Report(RunCounters value)
        {
            lock (_gate)
            {
                _latest = value;
                var due = false;
                while (_nextTenth <= 10 && value.Done * 10 >= _total * _nextTenth)
                {
                    due = true;
                    _nextTenth++;
                }
                if (due)
                {
                    Print();
                }
            }
        }

        private void Beat()
        {
            lock (_gate)
            {
                if (_time.GetElapsedTime(_lastLine) >= Heartbeat)
                {
                    Print();
                }
            }
        }

        private void Print()
        {
            _error.WriteLine("progress: " + Describe(_latest, _total, _time.GetElapsedTime(_started), _showCost));
            _lastLine = _time.GetTimestamp();
        }

        public override void Dispose() => _heartbeat.Dispose();
    }

    private sealed class Bar : RunProgress
    {
        private readonly Task _rendering;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly object _gate = new();
        private RunCounters _latest;

        public Bar(TextWriter terminal, long total, TimeProvider time, bool showCost)
        {
            var started = time.GetTimestamp();
            // Standard error is a terminal (checked by the caller) even when standard output is redirected.
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(terminal),
                Ansi = AnsiSupport.Yes,
                Interactive = InteractionSupport.Yes,
            });
            _rendering = console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("trials", maxValue: total);
                    void Update()
                    {
                        RunCounters latest;
                        lock (_gate)
                        {
                            latest = _latest;
                        }
                        task.Value = latest.Done;
                        task.Description = Markup.Escape(Describe(latest, total, time.GetElapsedTime(started), showCost));
                    }
                    while (!_done.Task.IsCompleted)
                    {
                        Update();
                        await Task.WhenAny(_done.Task, Task.Delay(200)).ConfigureAwait(false);
                    }
                    Update();
                });
        }

        public override void Report(RunCounters value)
        {
            lock (_gate)
            {
                _latest = value;
            }
        }

        public override void Dispose()
        {
            _done.TrySetResult();
            _rendering.GetAwaiter().GetResult();
        }
    }
}
