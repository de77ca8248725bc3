namespace CausalEval.Cli.Tests.Commands;

public class BenchCommandTests
{
    [Fact]
    public void The_episode_bench_warms_up_until_the_jit_is_quiet_and_reports_rates_allocation_and_the_jit_of_its_measured_episodes()
    {
        using var dir = new TempDir();

        var (code, output, error) = Cli.RunProcess(dir.Path, "bench", "--episodes", "300", "--datasets", Cli.Datasets);

        Assert.True(code == 0, error);
        Assert.Matches(@"builtin/expert on explore-exploit: [\d,]+ episodes/s on one thread, [\d,]+ per CPU-second \(300 episodes, [\d,]+ bytes allocated per episode\)", output);
        var rounds = System.Text.RegularExpressions.Regex.Match(output, @"5 rounds: median ([\d,]+) per CPU-second \(slowest ([\d,]+), fastest ([\d,]+)\)");
        Assert.True(rounds.Success, output);
        var (median, slowest, fastest) = (Number(rounds.Groups[1].Value), Number(rounds.Groups[2].Value), Number(rounds.Groups[3].Value));
        Assert.InRange(median, slowest, fastest);
        Assert.Matches(@"JIT during the measured episodes: [\d,]+ methods compiled", output);
        // A process's first warm-up compiles what the episodes use, so at least a second pass follows it.
        Assert.Matches(@"warm-up 1: [\d,]+ methods compiled, then [\d.]+ s waited for the JIT to go quiet", error);
        Assert.Matches(@"warm-up 2: [\d,]+ methods compiled", error);
    }

    private static long Number(string text) => long.Parse(text, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Fewer_than_one_episode_is_refused_with_exit_code_2()
    {
        using var dir = new TempDir();

        var (code, _, error) = Cli.RunProcess(dir.Path, "bench", "--episodes", "0", "--datasets", Cli.Datasets);

        Assert.Equal(2, code);
        Assert.Contains("--episodes", error);
    }
}
