using System.Text.RegularExpressions;
using CausalEval.Core.Running;
using Microsoft.Extensions.Time.Testing;

namespace CausalEval.Cli.Tests;

public class RunProgressTests
{
    private static (RunProgress Progress, StringWriter Error, FakeTimeProvider Time) Redirected(long total, bool showCost = true)
    {
        var error = new StringWriter();
        var time = new FakeTimeProvider();
        return (RunProgress.Create(new CliConsole(new StringWriter(), error), total, quiet: false, time, showCost), error, time);
    }

    private static string[] Lines(StringWriter error) => error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Redirected_lines_say_the_counts_as_they_are_at_every_tenth()
    {
        var (progress, error, time) = Redirected(40);
        using (progress)
        {
            for (var done = 1; done <= 40; done++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                progress.Report(new RunCounters(done, 40, done / 10, done * 0.001));
            }
        }

        var lines = Lines(error);
        Assert.Equal(10, lines.Length);
        for (var i = 0; i < 10; i++)
        {
            var done = 4 * (i + 1);
            Assert.StartsWith($"progress: {done}/40 trials ({done * 100 / 40}%), {done / 10} error", lines[i]);
            Assert.Contains($"${done * 0.001:0.0000}", lines[i]);
            Assert.Contains("60 trials/min", lines[i]); // one trial per (fake) second
        }
        Assert.Contains("about 0m 36s left", lines[0]);
        Assert.DoesNotContain("left", lines[^1]);
    }

    [Fact]
    public void A_slow_trial_in_flight_still_gets_a_line_at_least_every_30_seconds()
    {
        var (progress, error, time) = Redirected(2, showCost: false);
        using (progress)
        {
            progress.Report(new RunCounters(1, 2, 0, 0));
            var afterFirst = Lines(error).Length;
            Assert.Equal(1, afterFirst); // 1 of 2 is 50%: its tenths are due
            // The second trial takes ten minutes.
            for (var second = 0; second < 600; second++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
            var lines = Lines(error);
            Assert.InRange(lines.Length - afterFirst, 600 / 35, 600 / 30);
            Assert.All(lines, l => Assert.StartsWith("progress: 1/2 trials (50%), 0 errors", l));
            Assert.DoesNotContain(lines, l => l.Contains('$'));
        }
    }

    [Fact]
    public void The_percentage_always_agrees_with_the_counts_printed()
    {
        var (progress, error, time) = Redirected(7);
        using (progress)
        {
            for (var done = 1; done <= 7; done++)
            {
                time.Advance(TimeSpan.FromSeconds(3));
                progress.Report(new RunCounters(done, 7, 0, 0));
            }
        }

        foreach (var line in Lines(error))
        {
            var match = Regex.Match(line, @"progress: (\d+)/(\d+) trials \((\d+)%\)");
            Assert.True(match.Success, line);
            Assert.Equal(long.Parse(match.Groups[1].Value) * 100 / long.Parse(match.Groups[2].Value), long.Parse(match.Groups[3].Value));
        }
    }

    [Fact]
    public void The_terminal_bar_shows_done_of_total_errors_cost_rate_and_time_left()
    {
        var terminal = new StringWriter();
        var time = new FakeTimeProvider();
        var progress = RunProgress.Terminal(terminal, 40, time, showCost: true);
        time.Advance(TimeSpan.FromMinutes(2));
        progress.Report(new RunCounters(10, 40, 2, 0.0123));
        progress.Dispose(); // draws the last state and stops

        // The final frame, without the ANSI codes that move the cursor and colour the bar.
        var text = Regex.Replace(terminal.ToString(), @"\x1b\[[0-9;?]*[A-Za-z]", "");
        Assert.Contains("10/40 trials (25%), 2 errors, $0.0123, 5 trials/min, about 6m 00s left", text, StringComparison.Ordinal);
        Assert.Contains("25%", text[text.LastIndexOf("left", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Contains("━", text, StringComparison.Ordinal);
    }
}
