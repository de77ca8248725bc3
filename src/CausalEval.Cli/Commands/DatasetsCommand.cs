using System.CommandLine;
using System.Globalization;
using System.Text;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval datasets list | show ID | generate ID</c>.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("datasets", "The tasks and their committed test splits");
        command.Add(List(console));
        command.Add(Show(console));
        command.Add(Generate(console));
        command.Add(ObserverPrecompute.Create(console));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var datasets = CommonOptions.Datasets();
        var command = new Command("list", "List tasks with version, family and test-split size") { datasets };
        command.SetAction(parse =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            console.Out.WriteLine($"{"task",-34} {"version",7} {"family",-16} {"test episodes",13}");
            foreach (var id in catalog.TaskIds())
            {
                var task = catalog.Load(id);
                var path = catalog.TestSplitPath(id);
                var count = File.Exists(path) ? File.ReadLines(path).Count(l => l.Length > 0).ToString(CultureInfo.InvariantCulture) : "missing";
                console.Out.WriteLine($"{id,-34} {task.Version,7} {task.Family,-16} {count,13}");
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "Task id" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("show", "Describe a task and check its committed test split") { id, datasets };
        command.SetAction(parse =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var task = catalog.Load(parse.GetValue(id)!);
            console.Out.Write(Describe(catalog, task));
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Generate(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "Task id" };
        var split = new Option<string>("--split") { Description = "test, validation or train", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong(TaskDefinition.TestSplit, TaskDefinition.ValidationSplit, TaskDefinition.TrainSplit);
        var count = new Option<int?>("--count") { Description = "Episodes (default: the split's size from task.json)" };
        var output = new Option<string?>("--out") { Description = "Write to this file instead of standard output" };
        var write = new Option<bool>("--write") { Description = "Write the committed splits (test, and validation when task.json has one) and the README into the task's folder" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("generate", "Generate a split deterministically (the test split reproduces the committed file byte for byte)")
        {
            id, split, count, output, write, datasets,
        };
        command.SetAction(parse =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var task = catalog.Load(parse.GetValue(id)!);
            var n = parse.GetValue(count);
            if (n is < 1)
            {
                throw new InputException("--count", n.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
            }
            if (parse.GetValue(write))
            {
                var written = new List<string>();
                foreach (var committed in CommittedSplits(task))
                {
                    var path = catalog.SplitPath(task.Id, committed);
                    WriteAtomically(path, stream => TaskCatalog.WriteSplit(task, committed, null, stream));
                    written.Add(path);
                }
                File.WriteAllText(Path.Combine(catalog.Root, task.Id, "README.md"), Readme(catalog, task), new UTF8Encoding(false));
                console.Error.WriteLine($"wrote {string.Join(", ", written)} and README.md");
                return CliApp.Ok;
            }
            if (parse.GetValue(output) is { } file)
            {
                WriteAtomically(file, stream => TaskCatalog.WriteSplit(task, parse.GetValue(split)!, n, stream));
                return CliApp.Ok;
            }
            using var stdout = new MemoryStream();
            TaskCatalog.WriteSplit(task, parse.GetValue(split)!, n, stdout);
            console.Out.Write(Encoding.UTF8.GetString(stdout.ToArray()));
            console.Out.Flush();
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>The splits committed for a task: test, then validation when task.json defines one.</summary>
    internal static IEnumerable<string> CommittedSplits(TaskDefinition task) =>
        task.Validation is null ? [TaskDefinition.TestSplit] : [TaskDefinition.TestSplit, TaskDefinition.ValidationSplit];

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        {
            write(stream);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>What a task is, what its test split holds, and whether it matches a fresh generation.</summary>
    internal static string Describe(TaskCatalog catalog, TaskDefinition task)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{task.Id} (version {task.Version}, {task.Family})\n");
        text.Append(task.Description).Append('\n');
        foreach (var split in CommittedSplits(task))
        {
            var path = catalog.SplitPath(task.Id, split);
            var (count, statistics) = SplitStatistics(catalog, task, split);
            text.Append(CultureInfo.InvariantCulture, $"{split} split: {path}\n");
            text.Append(CultureInfo.InvariantCulture, $"episodes: {count}, sha256 {TaskCatalog.Sha256(path)}\n");
            using (var fresh = new MemoryStream())
            {
                TaskCatalog.WriteSplit(task, split, null, fresh);
                text.Append("matches `datasets generate`: ").Append(fresh.ToArray().AsSpan().SequenceEqual(File.ReadAllBytes(path)) ? "yes" : "NO").Append('\n');
            }
            foreach (var (name, value) in statistics)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\n");
            }
        }
        return text.ToString();
    }

    /// <summary>A committed split's size and the facts users check about it, for either family.</summary>
    private static (int Count, IReadOnlyList<(string Name, string Value)> Statistics) SplitStatistics(TaskCatalog catalog, TaskDefinition task, string split)
    {
        if (TaskDefinition.IsDagFamily(task.Family))
        {
            var episodes = catalog.LoadSplit(task.Id, split).ToList();
            return (episodes.Count, [.. Statistics(episodes)]);
        }
        var puzzles = catalog.LoadEpisodes(task, split).Cast<Core.OddOneOut.OddOneOutEpisode>().ToList();
        return (puzzles.Count, OddOneOutStatistics.Of(puzzles));
    }

    /// <summary>Facts about a split that users check: graph density, and how often shortcuts fail.</summary>
    internal static IEnumerable<(string Name, string Value)> Statistics(IReadOnlyList<Episode> episodes)
    {
        if (episodes.Count == 0)
        {
            yield break;
        }
        var edges = episodes.Average(e => e.World.Edges.Length);
        yield return ("mean edges per world", edges.ToString("0.00", CultureInfo.InvariantCulture));
        yield return ("mean optimal actions per episode (ties)", episodes.Average(e => e.Solution.Optimal.Length).ToString("0.00", CultureInfo.InvariantCulture));
        yield return ("share where correlation misleads (builtin/correlational, the sample regression, not optimal)",
            Share(episodes, "correlational").ToString("0.000", CultureInfo.InvariantCulture));
        yield return ("share where the population regression misleads (builtin/associative, exact observational covariance, not optimal)",
            Share(episodes, "associative").ToString("0.000", CultureInfo.InvariantCulture));
        if (episodes.Any(e => e.Options.HeldoutLink is not null))
        {
            yield return ("share where the held-out link matters (builtin/training-support not optimal)",
                Share(episodes, "training-support").ToString("0.000", CultureInfo.InvariantCulture));
        }
    }

    private static double Share(IReadOnlyList<Episode> episodes, string agent)
    {
        var factory = BuiltinAgents.All[agent].Create;
        var misses = 0;
        foreach (var episode in episodes)
        {
            var transcript = EpisodeEngine.RunAsync(episode, factory(new TrialContext("stats", episode, 1, episode.Seed, null)), episode.Seed)
                .AsTask().GetAwaiter().GetResult();
            if (transcript.Exploit is not { Status: StepStatus.Valid, Action: { } action } || !episode.Solution.IsOptimal(action))
            {
                misses++;
            }
        }
        return (double)misses / episodes.Count;
    }

    private static string Readme(TaskCatalog catalog, TaskDefinition task)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {task.Id} — committed splits (version {task.Version})\n\n");
        text.Append(task.Description).Append("\n\n");
        var dag = TaskDefinition.IsDagFamily(task.Family);
        text.Append(dag
            ? "Generated deterministically from `task.json` (generator, split seeds, episode options) by:\n\n"
            : "Generated deterministically from `task.json` (odd-one-out rules, split seeds) by:\n\n");
        text.Append(CultureInfo.InvariantCulture, $"```\ncausaleval datasets generate {task.Id} --write\n```\n\n");
        text.Append(CultureInfo.InvariantCulture, $"`causaleval datasets generate {task.Id} [--split validation]` prints the same bytes; a test checks that they match these files.\n");
        text.Append(dag
            ? "The validation split follows the test split's rules (held-out link, held-out subsets) with its own seed and never repeats a test episode (world, target, subset); "
            : "The validation split follows the test split's rules (deconfounded exploit trials; the held-out dimension, when there is one, as the concept) with its own seed and never repeats a test episode (concept, experiment trials, exploit objects); ");
        text.Append("train episodes repeat neither. Choose anything (prompts, recipes, checkpoints) on validation; report test.\n");
        foreach (var split in CommittedSplits(task))
        {
            var path = catalog.SplitPath(task.Id, split);
            var (count, statistics) = SplitStatistics(catalog, task, split);
            text.Append(CultureInfo.InvariantCulture, $"\n## {split}\n\n");
            text.Append(CultureInfo.InvariantCulture, $"- file: `{Path.GetFileName(path)}`, {count} episodes, one JSON object per line\n");
            text.Append(CultureInfo.InvariantCulture, $"- sha256: `{TaskCatalog.Sha256(path)}`\n");
            foreach (var (name, value) in statistics)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {name}: {value}\n");
            }
        }
        text.Append(dag
            ? "\nChange the generator or the episode options only with a new `version` in `task.json`, then regenerate.\n"
            : "\nChange the odd-one-out rules only with a new `version` in `task.json`, then regenerate.\n");
        return text.ToString();
    }
}
