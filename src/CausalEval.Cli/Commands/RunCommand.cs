using System.CommandLine;
using System.Globalization;
using System.Text;
using CausalEval.Baseline;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval run</c>: tasks × models × epochs into <c>results/&lt;run-id&gt;/</c>, then the leaderboard.</summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var tasks = new Option<string[]>("--task") { Description = "Task id (repeatable; default: every task)" };
        var models = new Option<string[]>("--model") { Description = "Model id (repeatable; default: every built-in agent and torch/default)" };
        var episodes = new Option<int?>("--episodes") { Description = "Only the first N episodes of each test split" };
        var epochs = new Option<int>("--epochs") { Description = "Times each episode is played", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed (environment noise and agent randomness)", DefaultValueFactory = _ => 0 };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Trials played at once", DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var output = new Option<string?>("--out") { Description = "Run folder (default: results/<run-id>)" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("run", "Run tasks × models × epochs and write results/<run-id>/ (no arguments: the default offline suite)")
        {
            tasks, models, episodes, epochs, seed, concurrency, output, quiet, datasets,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new RunOptions(
                parse.GetValue(tasks) ?? [],
                parse.GetValue(models) ?? [],
                parse.GetValue(episodes),
                parse.GetValue(epochs),
                parse.GetValue(seed),
                parse.GetValue(concurrency),
                parse.GetValue(output),
                parse.GetValue(datasets),
                parse.GetValue(quiet),
                ["causaleval", .. commandLine]);
            return await ExecuteAsync(options, console, ModelsCommand.Catalog(), TimeProvider.System, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The default suite's models: every built-in agent, then the shipped baseline checkpoint.</summary>
    internal static List<string> DefaultModels() =>
        [.. BuiltinAgents.All.Keys.Select(k => $"{BuiltinAgents.Prefix}/{k}"), TorchModelProvider.DefaultModelId];

    internal sealed record RunOptions(
        IReadOnlyList<string> Tasks,
        IReadOnlyList<string> Models,
        int? Episodes,
        int Epochs,
        ulong Seed,
        int Concurrency,
        string? Output,
        string? Datasets,
        bool Quiet,
        IReadOnlyList<string> CommandLine);

    internal static async Task<int> ExecuteAsync(RunOptions options, CliConsole console, ModelCatalog catalog, TimeProvider time,
        CancellationToken cancellationToken)
    {
        // Everything is checked before the run folder exists, so bad input leaves nothing behind.
        if (options.Episodes is < 1)
        {
            throw new InputException("--episodes", options.Episodes.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (options.Epochs < 1)
        {
            throw new InputException("--epochs", options.Epochs.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (options.Concurrency < 1)
        {
            throw new InputException("--concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        var tasks = TaskCatalog.Locate(options.Datasets);
        var taskIds = options.Tasks.Count > 0 ? options.Tasks.Distinct().ToList() : tasks.TaskIds();
        var selected = taskIds.Select(id =>
        {
            var task = tasks.Load(id);
            return new TaskEpisodes(task, [.. tasks.LoadTestSplit(id, options.Episodes)]);
        }).ToList();
        var modelIds = options.Models.Count > 0 ? options.Models.Distinct().ToList() : DefaultModels();
        foreach (var model in modelIds)
        {
            catalog.Resolve(model);
        }
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = modelIds,
            Epochs = options.Epochs,
            Seed = options.Seed,
            Concurrency = options.Concurrency,
            Episodes = options.Episodes,
        };

        var startedAt = time.GetUtcNow();
        var runId = $"{startedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var runDirectory = options.Output ?? Path.Combine("results", runId);
        if (Directory.Exists(runDirectory) && Directory.EnumerateFileSystemEntries(runDirectory).Any())
        {
            throw new InputException("--out", runDirectory, "the folder is not empty; choose a new one");
        }
        Directory.CreateDirectory(runDirectory);
        var manifest = new RunManifest
        {
            RunId = runId,
            CommandLine = options.CommandLine,
            ToolVersion = BuildInfo.Version,
            GitRevision = BuildInfo.GitRevision,
            Tasks = [.. selected.Select(t => new ManifestTask(t.Task.Id, t.Task.Version, plan.Split, t.Episodes.Count,
                TaskCatalog.Sha256(tasks.TestSplitPath(t.Task.Id))))],
            Models = modelIds,
            PromptVariants = plan.PromptVariants,
            Seed = plan.Seed,
            Epochs = plan.Epochs,
            Concurrency = plan.Concurrency,
            TrialsPlanned = Runner.CountTrials(plan, selected),
            Status = "running",
            StartedAt = startedAt,
        };
        manifest.Save(runDirectory);

        var leaderboard = new Leaderboard();
        RunOutcome outcome;
        await using (var store = new JsonlResultStore(runDirectory))
        {
            using var progress = RunProgress.Create(console, manifest.TrialsPlanned, options.Quiet);
            outcome = await new Runner(catalog, time).RunAsync(plan, selected, store, leaderboard, progress, cancellationToken).ConfigureAwait(false);
        }
        var markdown = leaderboard.ToMarkdown(runId);
        await File.WriteAllTextAsync(Path.Combine(runDirectory, "leaderboard.md"), markdown, new UTF8Encoding(false), CancellationToken.None)
            .ConfigureAwait(false);
        manifest = manifest with
        {
            Status = outcome.Cancelled ? "interrupted" : outcome.Errors > 0 ? "failed" : "finished",
            TrialsWritten = outcome.Written,
            TrialErrors = outcome.Errors,
            FinishedAt = time.GetUtcNow(),
        };
        manifest.Save(runDirectory);

        await console.Out.WriteAsync(markdown).ConfigureAwait(false);
        await console.Out.WriteLineAsync().ConfigureAwait(false);
        await console.Out.WriteLineAsync($"results: {runDirectory} ({outcome.Written} trials)").ConfigureAwait(false);
        if (outcome.Cancelled)
        {
            await console.Error.WriteLineAsync($"interrupted after {outcome.Written} of {outcome.Planned} trials").ConfigureAwait(false);
            return CliApp.Failed;
        }
        if (outcome.Errors > 0)
        {
            await console.Error.WriteLineAsync($"{outcome.Errors} trials ended in an error; see \"error\" in {JsonlResultStore.FileName}").ConfigureAwait(false);
            return CliApp.Failed;
        }
        return CliApp.Ok;
    }
}
