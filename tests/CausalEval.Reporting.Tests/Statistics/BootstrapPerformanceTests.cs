using CausalEval.Core.Randomness;
using System.Diagnostics;
using System.Reflection;
using CausalEval.Reporting.Statistics;
using Xunit.Abstractions;

namespace CausalEval.Reporting.Tests.Statistics;

/// <summary>Timings mean little while other tests compete for the cores, so these run alone.</summary>
[CollectionDefinition(nameof(BootstrapPerformanceTests), DisableParallelization = true)]
public class BootstrapPerformanceCollection;

[Collection(nameof(BootstrapPerformanceTests))]
public class BootstrapPerformanceTests(ITestOutputHelper output)
{
    private const int Observations = 100_000;

    [Fact]
    [Trait("Category", "Performance")]
    public void One_hundred_thousand_observations_resample_without_copying_the_data_per_resample()
    {
        // Unoptimized (Debug) builds run this code about ten times slower, so they check a tenth
        // of the resamples against the same budget; `dotnet test -c Release` measures the real size.
        int resamples = LibraryIsOptimized ? Bootstrap.DefaultResamples : Bootstrap.DefaultResamples / 10;
        var random = new SeededRandom(5);
        double[] values = Enumerable.Range(0, Observations).Select(_ => random.NextDouble()).ToArray();
        int[] episodes = Enumerable.Range(0, Observations).Select(i => i / 4).ToArray(); // 25,000 episodes × 4 epochs
        double[] other = values.Select(v => 1 - v * v).ToArray();

        Bootstrap.MeanInterval(values.AsSpan(0, 1000)); // JIT warm-up

        var (independent, independentCpu, independentBytes) = Time(() => Bootstrap.MeanInterval(values, resamples: resamples));
        var (clustered, clusteredCpu, clusteredBytes) = Time(() => Bootstrap.ClusteredMeanInterval(values, episodes, resamples: resamples));
        var (paired, pairedCpu, pairedBytes) = Time(() => Bootstrap.PairedMeanDifferenceInterval(values, other, episodes, resamples: resamples));

        // CPU time is reported too because wall time swings widely on a shared machine.
        output.WriteLine($"{(LibraryIsOptimized ? "optimized" : "unoptimized")} build, {Observations:N0} observations, B = {resamples}:");
        output.WriteLine($"  independent observations:     {independent.TotalMilliseconds,6:F0} ms wall, {independentCpu.TotalMilliseconds,6:F0} ms CPU");
        output.WriteLine($"  25,000 episode clusters:      {clustered.TotalMilliseconds,6:F0} ms wall, {clusteredCpu.TotalMilliseconds,6:F0} ms CPU");
        output.WriteLine($"  paired difference, clustered: {paired.TotalMilliseconds,6:F0} ms wall, {pairedCpu.TotalMilliseconds,6:F0} ms CPU");

        output.WriteLine($"  allocated: {independentBytes:N0}, {clusteredBytes:N0}, {pairedBytes:N0} bytes");

        // Timings are figures, not assertions (a shared machine makes them swing): what is checked is that no interval
        // copies the data per resample — that would allocate 800 kB × B — so it allocates less than a tenth of one copy per resample.
        long perResampleCopy = (long)Observations * sizeof(double) * resamples;
        Assert.True(independentBytes < perResampleCopy / 10, $"independent allocated {independentBytes:N0} bytes");
        Assert.True(clusteredBytes < perResampleCopy / 10, $"clustered allocated {clusteredBytes:N0} bytes");
        Assert.True(pairedBytes < perResampleCopy / 10, $"paired allocated {pairedBytes:N0} bytes");
    }

    private static bool LibraryIsOptimized =>
        typeof(Bootstrap).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    private static (TimeSpan Wall, TimeSpan Cpu, long Allocated) Time(Action action)
    {
        var process = Process.GetCurrentProcess();
        TimeSpan cpuBefore = process.TotalProcessorTime;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var timer = Stopwatch.StartNew();
        action();
        timer.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        process.Refresh();
        return (timer.Elapsed, process.TotalProcessorTime - cpuBefore, allocated);
    }
}
