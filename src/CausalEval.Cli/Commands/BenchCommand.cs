using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;
using CausalEval.Cli.Bench;
using CausalEval.Core.Results;

namespace CausalEval.Cli.Commands;

/// <summary>
/// <c>causaleval bench</c>: episodes per second of the engine and scorers on one thread, and optionally a large
/// streamed run with its peak memory. Figures go into the README.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var task = new Option<string>("--task") { Description = "Task to play", DefaultValueFactory = _ => "explore-exploit" };
        var model = new Option<string>("--model") { Description = "Built-in agent", DefaultValueFactory = _ => "builtin/expert" };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to play on one thread", DefaultValueFactory = _ => 2_000_000 };
        var trials = new Option<long>("--run-trials") { Description = "Also run this many trials through `run`'s runner into a temporary folder (0: skip)" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("bench", "Measure episodes per second and a streamed run's peak memory") { task, model, episodes, trials, datasets };
        foreach (var sub in ChatBench.Create(console))
        {
            command.Subcommands.Add(sub);
        }
        command.Subcommands.Add(RunBench.Create(console));
        command.Subcommands.Add(ObserverBench.Create(console));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var definition = catalog.Load(parse.GetValue(task)!);
            var pool = catalog.LoadTestSplit(definition.Id).ToArray();
            var modelId = parse.GetValue(model)!;
            var factory = ModelsCommand.Catalog().Resolve(modelId);
            var count = parse.GetValue(episodes);
            if (count < 1)
            {
                throw new InputException("--episodes", count.ToString(CultureInfo.InvariantCulture), "must be at least 1");
            }
            var rate = await EpisodesPerSecondAsync(pool, factory, count, console.Error, cancellationToken).ConfigureAwait(false);
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{modelId} on {definition.Id}: {rate.PerSecond:N0} episodes/s on one thread, {rate.PerCpuSecond:N0} per CPU-second ({count:N0} episodes, {rate.BytesPerEpisode:N0} bytes allocated per episode)"));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rate.RoundsPerCpuSecond.Length} rounds: median {rate.MedianRound:N0} per CPU-second (slowest {rate.RoundsPerCpuSecond[0]:N0}, fastest {rate.RoundsPerCpuSecond[^1]:N0})"));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"JIT during the measured episodes: {rate.JitMethods:N0} methods compiled"));
            if (parse.GetValue(trials) is > 0 and var total)
            {
                await StreamedRun(console, catalog, definition, pool, modelId, total, cancellationToken).ConfigureAwait(false);
            }
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>
    /// Plays and scores episodes back to back on the calling thread (agents here complete synchronously).
    /// Reports wall-clock and CPU-time rates: on a busy machine the second is the one that says what the code costs.
    /// </summary>
    internal static async Task<EpisodeRate> EpisodesPerSecondAsync(
        Episode[] pool, AgentFactory factory, int count, TextWriter log, CancellationToken cancellationToken)
    {
        // The warm-up lets tiered compilation settle before timing. Tier-1 compilation (twice per hot method under dynamic
        // PGO) runs on a background thread that falls behind on a busy machine, and its CPU time would count in the measured
        // episodes, some of which would run unoptimised code: after each warm-up the bench waits for the JIT to go quiet,
        // and plays the warm-up again (at most three times) while that one still compiled methods.
        for (var pass = 1; pass <= 3; pass++)
        {
            var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            Play(pool, factory, Math.Min(count, 50_000));
            var waited = await RunBench.JitQuietAsync(cancellationToken).ConfigureAwait(false);
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up {pass}: {compiled:N0} methods compiled, then {waited.TotalSeconds:0.0} s waited for the JIT to go quiet"));
            if (compiled < 10)
            {
                break;
            }
        }
        // Measured in rounds, each timed alone, so a slow stretch of the machine shows as a slow round beside the others.
        // CPU time from getrusage (microseconds; /proc's clock ticks are 10 ms).
        var rounds = Math.Min(BenchRounds, count);
        var perRound = new double[rounds];
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        double checksum = 0;
        for (var (round, played) = (0, 0); round < rounds; round++)
        {
            var size = (count - played) / (rounds - round);
            var roundCpu = Environment.CpuUsage.TotalTime;
            checksum += Play(pool, factory, size);
            perRound[round] = size / (Environment.CpuUsage.TotalTime - roundCpu).TotalSeconds;
            played += size;
        }
        watch.Stop();
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        GC.KeepAlive(checksum);
        Array.Sort(perRound);
        return new EpisodeRate(count / watch.Elapsed.TotalSeconds, count / cpu.TotalSeconds, (double)allocated / count,
            System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore, [.. perRound]);
    }

    /// <summary>How many rounds the measured episodes are played in.</summary>
    internal const int BenchRounds = 5;

    /// <summary>The episode bench's figures; <see cref="RoundsPerCpuSecond"/> ascending.</summary>
    internal sealed record EpisodeRate(double PerSecond, double PerCpuSecond, double BytesPerEpisode, long JitMethods,
        System.Collections.Immutable.ImmutableArray<double> RoundsPerCpuSecond)
    {
        public double MedianRound => RoundsPerCpuSecond[RoundsPerCpuSecond.Length / 2];
    }

    private static double Play(Episode[] pool, AgentFactory factory, int count)
    {
        double checksum = 0;
        for (var i = 0; i < count; i++)
        {
            var episode = pool[i % pool.Length];
            var agent = factory(new TrialContext("bench", episode, 1, (ulong)i, null));
            var pending = EpisodeEngine.RunAsync(episode, agent, (ulong)i);
            var transcript = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            checksum += EpisodeScoring.Score(new ScoringInput(episode, transcript)).Normalized ?? 0;
        }
        return checksum;
    }

    private static async Task StreamedRun(CliConsole console, TaskCatalog datasets, TaskDefinition task, Episode[] pool, string model, long trials,
        CancellationToken cancellationToken)
    {
        var epochs = (int)Math.Ceiling((double)trials / pool.Length);
        var directory = Path.Combine(Path.GetTempPath(), $"causaleval-bench-{Guid.NewGuid():N}");
        try
        {
            var plan = new RunPlan { Tasks = [task], Models = [model], Epochs = epochs, Concurrency = Environment.ProcessorCount };
            var watch = Stopwatch.StartNew();
            var session = RunSession.Start(plan, [new TaskEpisodes(task, pool)], datasets, new RunIdentity { CommandLine = ["causaleval", "bench"] },
                directory, TimeProvider.System);
            var outcome = (await session.RunAsync(ModelsCommand.Catalog(), TimeProvider.System, cancellationToken: cancellationToken).ConfigureAwait(false)).Outcome;
            watch.Stop();
            var bytes = new FileInfo(Path.Combine(directory, JsonlResultStore.FileName)).Length;
            using var self = Process.GetCurrentProcess();
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"streamed run: {outcome.Written:N0} trials in {watch.Elapsed.TotalSeconds:0.0} s ({outcome.Written / watch.Elapsed.TotalSeconds:N0} trials/s), " +
                $"trials.jsonl {bytes / 1048576.0:N0} MiB, peak working set {self.PeakWorkingSet64 / 1048576.0:N0} MiB"));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
