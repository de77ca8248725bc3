namespace CausalEval.Cli.Tests.Bench;

public class RunBenchTests
{
    [Fact]
    public void A_small_bench_run_reports_calls_cpu_allocation_collections_and_the_jit_of_its_measured_run()
    {
        using var dir = new TempDir();

        var (code, output, error) = Cli.RunProcess(dir.Path, "bench", "run", "--task", "passive-exploit-interventional", "--episodes", "4",
            "--warmup-episodes", "0", "--concurrency", "4", "--latency-ms", "1", "--no-observer", "--datasets", Cli.Datasets);

        Assert.True(code == 0, error);
        Assert.Contains("4 model calls in 4 trials", output);
        Assert.Contains("trial errors 0", output);
        Assert.Matches(@"run CPU: [\d,]+ µs per call", output);
        Assert.Matches(@"allocated: [\d.,]+ KB per call; GC pauses: [\d,]+ µs per call \([\d.]+% of the wall time\), \d+/\d+/\d+ gen-0/1/2 collections", output);
        Assert.Matches(@"JIT during the measured run: [\d,]+ methods compiled, [\d.]+ s in the compiler", output);
    }

    [Fact]
    public void The_warm_up_is_played_again_while_it_still_compiles_many_methods_and_waits_for_the_jit_each_time()
    {
        using var dir = new TempDir();

        var (code, output, error) = Cli.RunProcess(dir.Path, "bench", "run", "--task", "passive-exploit-interventional", "--episodes", "2",
            "--warmup-episodes", "2", "--warmup-passes", "2", "--concurrency", "2", "--latency-ms", "1", "--no-observer", "--datasets", Cli.Datasets);

        Assert.True(code == 0, error);
        // The first warm-up of a process compiles thousands of methods, so a second one follows (and no third: at most 2).
        Assert.Matches(@"warm-up 1: [\d,]+ methods compiled, then [\d.]+ s waited for the JIT to go quiet", error);
        Assert.Matches(@"warm-up 2: [\d,]+ methods compiled", error);
        Assert.DoesNotContain("warm-up 3:", error);
        Assert.Contains("2 model calls in 2 trials", output);
    }
}
