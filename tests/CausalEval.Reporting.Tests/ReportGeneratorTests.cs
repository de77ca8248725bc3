using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests;

/// <summary>The truth view runs beside the statistics and plots: a failure there stops it instead of leaving it running.</summary>
public sealed class ReportGeneratorTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_failing_statistics_phase_cancels_the_truth_view_waits_for_it_and_fails_with_its_own_message()
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), Fixtures.Snapshot(), runId: "statistics-fail", seed: 7);
        var output = _temp.Sub("report");
        using var started = new ManualResetEventSlim();
        var cancelled = false;
        byte[]? Truth(IReadOnlyList<EpisodeTruth.ManifestTaskRef> tasks, IReadOnlyList<byte[]> transcripts, string? datasets, List<string> notes, CancellationToken cancellation)
        {
            started.Set();
            // Bounded, so that a cancellation that never comes fails the test instead of hanging it.
            cancelled = cancellation.WaitHandle.WaitOne(TimeSpan.FromMinutes(2));
            cancellation.ThrowIfCancellationRequested();
            return null;
        }
        ReportModel Statistics(ReportData data, TranscriptSampler transcripts)
        {
            Assert.True(started.Wait(TimeSpan.FromMinutes(2))); // the truth view is in flight
            throw new InvalidOperationException("the bootstrap failed");
        }

        var error = Assert.Throws<InvalidOperationException>(() =>
            ReportGenerator.Generate(new ReportOptions([run], output) { Statistics = Statistics, Truth = Truth }));

        Assert.Equal("the bootstrap failed", error.Message);
        Assert.True(cancelled); // set before Generate returned: the truth view was cancelled and waited for
        Assert.False(Directory.Exists(output)); // nothing written
    }

    [Fact]
    public void Reading_that_fails_cancels_the_truth_views_preparation_and_waits_for_it()
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), Fixtures.Snapshot(), runId: "read-fail", seed: 7);
        var trials = Path.Combine(run, "trials.jsonl");
        File.WriteAllLines(trials, ["{\"not\": \"a trial\"", .. File.ReadAllLines(trials)]);
        var output = _temp.Sub("report");
        int started = 0, finished = 0;
        void Prepare(IReadOnlyList<EpisodeTruth.ManifestTaskRef> tasks, string? datasets, CancellationToken cancellation)
        {
            Interlocked.Increment(ref started);
            // Bounded, so that a cancellation that never comes fails the test instead of hanging it.
            Assert.True(cancellation.WaitHandle.WaitOne(TimeSpan.FromMinutes(2)));
            Interlocked.Increment(ref finished);
        }

        Assert.Throws<Core.InputException>(() => ReportGenerator.Generate(new ReportOptions([run], output) { PrepareTruth = Prepare }));

        // Cancelled before it started, or cancelled and waited for: nothing is left running when Generate returns.
        Assert.Equal(Volatile.Read(ref started), Volatile.Read(ref finished));
        Assert.False(Directory.Exists(output));
    }
}
