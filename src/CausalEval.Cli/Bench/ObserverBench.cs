using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Randomness;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Bench;

/// <summary>
/// <c>causaleval bench observer</c>: the ideal observer's cost per decision. Without a hidden root: a decision after each
/// of the expert's experiments on <c>explore-exploit</c> test worlds (the posterior from all samples so far, then the
/// information of every experiment and the exploit expectations), on one core. With the hidden root: the posterior and
/// the same answers for the ten observational samples of <c>passive-exploit-observational</c> test episodes.
/// CPU time is reported beside wall time because the machine may be shared.
/// </summary>
internal static class ObserverBench
{
    public static Command Create(CliConsole console)
    {
        var episodes = new Option<int>("--episodes") { Description = "explore-exploit test episodes (5 decisions each)", DefaultValueFactory = _ => 40 };
        var hiddenEpisodes = new Option<int>("--hidden-episodes") { Description = "passive-exploit-observational test episodes (0: skip)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Cores for the hidden-root posterior", DefaultValueFactory = _ => 2 };
        var datasets = CommonOptions.Datasets();
        var command = new Command("observer", "CPU time of the ideal observer's decisions (posterior + information of every experiment)")
        {
            episodes, hiddenEpisodes, threads, datasets,
        };
        command.SetAction(parse =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var watch = Stopwatch.StartNew();
            var cpu = Cpu();
            var task = catalog.Load("explore-exploit");
            var pool = catalog.LoadTestSplit(task.Id, parse.GetValue(episodes)).ToArray();
            var family = IdealObserver.Infer(new ObserverModel(["A", "B", "C", "D", "E"], false, 2.0 / 3.0, 0.1), []);
            family.Experiments(family.Model.Variables, [5, -5]);
            // The trie of the branch-and-bound pass and the JIT's optimised code, with one decision on the first world.
            Decide(task, pool[0], ExpertSamples(pool[0])[..1]);
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"setup: enumerating the 5-variable family, its trie and the prior's information: {watch.Elapsed.TotalSeconds:0.00} s wall, {(Cpu() - cpu).TotalSeconds:0.00} s CPU (once per process)"));

            var perStep = new List<(double Pass, double Answers, int Kept)>[6];
            for (var k = 0; k < perStep.Length; k++)
            {
                perStep[k] = [];
            }
            foreach (var episode in pool)
            {
                var samples = ExpertSamples(episode);
                for (var k = 1; k <= samples.Length; k++)
                {
                    perStep[k].Add(Decide(task, episode, samples[..k]));
                }
            }
            var all = perStep.SelectMany(s => s).Select(s => s.Pass + s.Answers).ToArray();
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"no hidden root, one core, every posterior from scratch: {all.Length} decisions, CPU per decision mean {all.Average():0.0} ms, max {all.Max():0.0} ms; " +
                $"by samples seen (posterior pass + answers): {string.Join(", ", Enumerable.Range(1, 5).Select(k => $"{k}: {perStep[k].Average(s => s.Pass):0.0} + {perStep[k].Average(s => s.Answers):0.0} ms (median {Median(perStep[k].Select(s => s.Pass + s.Answers)):0.0}) ({perStep[k].Average(s => s.Kept):N0} DAGs kept)"))}"));

            var hidden = parse.GetValue(hiddenEpisodes);
            if (hidden > 0)
            {
                var observational = catalog.Load("passive-exploit-observational");
                var cores = Math.Max(1, parse.GetValue(threads));
                var walls = new List<double>();
                var cpus = new List<double>();
                var support = new List<int>();
                foreach (var episode in catalog.LoadTestSplit(observational.Id, hidden))
                {
                    var model = ObserverModel.For(observational, episode.Brief);
                    var before = Cpu();
                    var started = Stopwatch.StartNew();
                    var posterior = IdealObserver.Infer(model, episode.Options.Evidence!.Samples, cores);
                    posterior.Experiments(episode.ExploreVariables, episode.Options.AllowedValues);
                    posterior.Exploit(episode.Target, episode.ExploitVariables, episode.Options.AllowedValues);
                    walls.Add(started.Elapsed.TotalSeconds);
                    cpus.Add((Cpu() - before).TotalSeconds);
                    support.Add(posterior.Support);
                }
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"hidden root ({model(observational)} hypotheses), {cores} cores: {walls.Count} decisions, wall mean {walls.Average():0.00} s (max {walls.Max():0.00} s), " +
                    $"CPU mean {cpus.Average():0.00} s; DAGs kept after the proven bound: mean {support.Average():N0} of 3,068,281"));
            }
            return CliApp.Ok;
        });
        return command;

        static string model(TaskDefinition task) => (3_068_281L * (task.Generator.HiddenConfounder ? 232 : 1)).ToString("N0", CultureInfo.InvariantCulture);
    }

    /// <summary>CPU milliseconds of the posterior pass and of the answers (information of every experiment, exploit), and the DAGs kept.</summary>
    private static (double Pass, double Answers, int Kept) Decide(TaskDefinition task, Episode episode, EvidenceSample[] samples)
    {
        var before = Cpu();
        var posterior = IdealObserver.Infer(ObserverModel.For(task, episode.Brief), samples, threads: 1);
        var passed = Cpu();
        posterior.Experiments(episode.ExploreVariables, episode.Options.AllowedValues);
        posterior.Exploit(episode.Target, episode.ExploitVariables, episode.Options.AllowedValues);
        return ((passed - before).TotalMilliseconds, (Cpu() - passed).TotalMilliseconds, posterior.Support);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }

    private static TimeSpan Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The expert's experiments on the episode's world (one per variable), values rounded as shown.</summary>
    private static EvidenceSample[] ExpertSamples(Episode episode)
    {
        var random = new SeededRandom(episode.Seed);
        var world = episode.World;
        var values = new double[world.Count];
        return [.. episode.ExploreVariables.Select(variable =>
        {
            world.Sample(random, world.IndexOf(variable), 5, values);
            return new EvidenceSample(new Core.Worlds.Intervention(variable, 5),
                [.. world.Observable.Select(v => EpisodeEngine.RoundForDisplay(values[world.IndexOf(v)]))]);
        })];
    }
}
