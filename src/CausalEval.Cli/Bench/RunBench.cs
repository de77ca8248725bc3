using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CausalEval.Core.Running;
using CausalEval.Runs;
using CausalEval.Core.Results;
using CausalEval.Cli.Commands;

namespace CausalEval.Cli.Bench;

/// <summary>
/// <c>causaleval bench run</c>: the whole run path — render, call, parse, score, write — as <c>causaleval run</c> plays a
/// chat model, against the local fixed-latency OpenAI-compatible server of <c>bench chat</c> (a child process, so the
/// run's CPU time is measured alone): model calls per second at a given concurrency, and CPU time per call, net of
/// start-up (the run is prepared before the clock starts).
/// </summary>
internal static class RunBench
{
    public static Command Create(CliConsole console)
    {
        var latency = new Option<int>("--latency-ms") { Description = "The local server's fixed latency per call", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "Trials (so model calls) in flight", DefaultValueFactory = _ => 64 };
        var episodes = new Option<int>("--episodes") { Description = "Episodes of each task", DefaultValueFactory = _ => 300 };
        var tasks = new Option<string[]>("--task") { Description = "Task id (repeatable; default: every task)" };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt variant (default: the default one)" };
        var epochs = new Option<int>("--epochs") { Description = "Times each episode is played in the measured run (a longer run, nearer the steady state)", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup-episodes") { Description = "Episodes of each task played first and not measured (JIT warm-up; 0: none)", DefaultValueFactory = _ => 40 };
        var noCache = new Option<bool>("--no-cache") { Description = "Leave the response cache out (default: a fresh cache in a temporary folder: every call a miss and an insert)" };
        var noObserver = new Option<bool>("--no-observer")
        {
            Description = "Do not score with the ideal observer (as run --no-observer; its exact posteriors cost more CPU per trial than the rest of the run path)",
        };
        var warmupPasses = new Option<int>("--warmup-passes")
        {
            Description = "Most times the warm-up is played, while one still compiled 1,000 methods or more (1: once, as before)",
            DefaultValueFactory = _ => 3,
        };
        var datasets = CommonOptions.Datasets();
        var command = new Command("run", "Model calls per second and CPU time per call of a whole run of a chat model against a local fixed-latency server")
        {
            latency, concurrency, episodes, epochs, warmup, warmupPasses, tasks, prompt, noCache, noObserver, datasets,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var width = parse.GetValue(concurrency);
            using var server = ChatBench.ServerProcess.Start(parse.GetValue(latency));
            var scratch = Path.Combine(Path.GetTempPath(), $"causaleval-bench-run-{Guid.NewGuid():N}");
            try
            {
                RunRequest Request(int episodeCount, int epochCount, string name) => new()
                {
                    Epochs = epochCount,
                    Tasks = parse.GetValue(tasks) ?? [],
                    Models = [$"openai-compatible/bench@{server.BaseUrl}"],
                    Episodes = episodeCount,
                    Concurrency = width,
                    Output = Path.Combine(scratch, name),
                    Datasets = parse.GetValue(datasets),
                    Prompts = parse.GetValue(prompt) is { } variant ? [variant] : [],
                    CacheDirectory = Path.Combine(scratch, name + "-cache"),
                    NoCache = parse.GetValue(noCache),
                    Observer = !parse.GetValue(noObserver),
                    CommandLine = ["causaleval", "bench", "run"],
                    ToolVersion = BuildInfo.Version,
                    GitRevision = BuildInfo.GitRevision,
                };
                // A short run first, in its own folder and cache, so the measured run is the steady state a long study
                // spends its time in: JIT tiering of the whole call path costs as much CPU as the calls in a short run.
                if (parse.GetValue(warmup) is > 0 and var warmupEpisodes)
                {
                    // Tier-1 compilation of what a warm-up made hot (twice per method under dynamic PGO) runs on one
                    // background thread and outlasts the warm-up: after each warm-up the bench waits for the JIT to go
                    // quiet, and plays the warm-up again (at most three times) while that one still compiled many methods.
                    for (var pass = 1; pass <= parse.GetValue(warmupPasses); pass++)
                    {
                        var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                        using (var first = EvaluationRun.Prepare(Request(warmupEpisodes, 1, $"warm-up-{pass}"), ModelsCommand.Catalog, TimeProvider.System, _ => { }))
                        {
                            await first.RunAsync(null, cancellationToken).ConfigureAwait(false);
                        }
                        var waited = await JitQuietAsync(cancellationToken).ConfigureAwait(false);
                        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;
                        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"warm-up {pass}: {compiled:N0} methods compiled, then {waited.TotalSeconds:0.0} s waited for the JIT to go quiet"));
                        if (compiled < 1000)
                        {
                            break;
                        }
                    }
                }
                var request = Request(parse.GetValue(episodes), parse.GetValue(epochs), "run");
                using var run = EvaluationRun.Prepare(request, ModelsCommand.Catalog, TimeProvider.System, line => console.Error.WriteLine(line));
                using var self = Process.GetCurrentProcess();
                self.Refresh();
                var cpuBefore = self.TotalProcessorTime;
                var allocatedBefore = GC.GetTotalAllocatedBytes();
                var pauseBefore = GC.GetTotalPauseDuration();
                var gen2Before = GC.CollectionCount(2);
                var (gen0Before, gen1Before) = (GC.CollectionCount(0), GC.CollectionCount(1));
                var jitMethodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                var jitTimeBefore = System.Runtime.JitInfo.GetCompilationTime();
                var serverBefore = server.Cpu();
                var watch = Stopwatch.StartNew();
                var result = await run.RunAsync(null, cancellationToken).ConfigureAwait(false);
                var wall = watch.Elapsed;
                var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
                var pause = GC.GetTotalPauseDuration() - pauseBefore;
                var gen2 = GC.CollectionCount(2) - gen2Before;
                var (gen0, gen1) = (GC.CollectionCount(0) - gen0Before, GC.CollectionCount(1) - gen1Before);
                var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsBefore;
                var jitTime = System.Runtime.JitInfo.GetCompilationTime() - jitTimeBefore;
                self.Refresh();
                var cpu = self.TotalProcessorTime - cpuBefore;
                var serverCpu = server.Cpu() - serverBefore;
                // Every decision of a chat model is one model call.
                var calls = TrialLog.Read(Path.Combine(result.Directory, JsonlResultStore.FileName)).Sum(t => (long)t.Decisions);
                var ideal = width / (parse.GetValue(latency) / 1000.0);
                var rate = calls / wall.TotalSeconds;
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{calls:N0} model calls in {result.Manifest.TrialsWritten:N0} trials, {wall.TotalSeconds:0.0} s at concurrency {width}: {rate:N1} calls/s " +
                    $"({100 * rate / ideal:0.0}% of the ideal {ideal:N0}); trial errors {result.Manifest.TrialErrors}"));
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run CPU: {cpu.TotalMilliseconds * 1000 / calls:N0} µs per call ({100 * cpu / wall / Environment.ProcessorCount:0.0}% of {Environment.ProcessorCount} cores); " +
                    $"local server CPU: {serverCpu.TotalMilliseconds * 1000 / calls:N0} µs per call; response cache: {(request.NoCache ? "off" : "on (every call a miss and an insert)")}; " +
                    $"ideal observer: {(request.Observer ? "on" : "off")}"));
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"allocated: {allocated / 1024.0 / calls:N1} KB per call; GC pauses: {pause.TotalMilliseconds * 1000 / calls:N0} µs per call ({100 * pause / wall:0.0}% of the wall time), {gen0}/{gen1}/{gen2} gen-0/1/2 collections"));
                // Tiered compilation still at work in the measured run (methods reaching tier 1, dynamic PGO's second
                // compilation) is start-up cost a longer warm-up would move out: shown so a figure can be read for it. The
                // runtime times compilations by the clock, so on a busy machine that time is more than the JIT's CPU time.
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"JIT during the measured run: {jitMethods:N0} methods compiled, {jitTime.TotalSeconds:0.0} s in the compiler (wall-clock time of its threads, preemption included)"));
            }
            finally
            {
                if (Directory.Exists(scratch))
                {
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    Directory.Delete(scratch, recursive: true);
                }
            }
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>Waits until no method has been compiled for a second (at most a minute); returns how long it waited.</summary>
    internal static async Task<TimeSpan> JitQuietAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var quiet = Stopwatch.StartNew();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (quiet.Elapsed < TimeSpan.FromSeconds(1) && waited.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                (compiled, quiet) = (now, Stopwatch.StartNew());
            }
        }
        return waited.Elapsed;
    }
}
