using System.CommandLine;
using System.Globalization;
using System.Text;
using CausalEval.Baseline;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;

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
        var resume = new Option<string?>("--resume") { Description = "Finish an interrupted run in this folder: same plan (from its run.json), no trial played twice" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var datasets = CommonOptions.Datasets();
        var prompts = new Option<string[]>("--prompt")
        {
            Description = $"Prompt variant for chat models (repeatable: one trial per episode × variant; default {PromptLibrary.DefaultVariant})",
        };
        var names = new Option<string>("--names")
        {
            Description = $"Variable names chat models see: {string.Join(" | ", NamingSchemes.All)}", DefaultValueFactory = _ => NamingSchemes.Default,
        };
        var command = new Command("run", "Run tasks × models × epochs and write results/<run-id>/ (no arguments: the default offline suite)")
        {
            tasks, models, episodes, epochs, seed, concurrency, output, resume, quiet, datasets, prompts, names,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(resume) is { } resumeDirectory)
            {
                // The plan comes from run.json: options that would change it are refused rather than ignored.
                Option[] planOptions = [tasks, models, episodes, epochs, seed, output, prompts, names];
                if (planOptions.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } conflicting)
                {
                    throw new InputException(conflicting.Name, "--resume", "the resumed run keeps its own plan; drop this option");
                }
            }
            var options = new RunOptions(
                parse.GetValue(tasks) ?? [],
                parse.GetValue(models) ?? [],
                parse.GetValue(episodes),
                parse.GetValue(epochs),
                parse.GetValue(seed),
                parse.GetResult(concurrency) is { Implicit: false } ? parse.GetValue(concurrency) : null,
                parse.GetValue(output),
                parse.GetValue(resume),
                parse.GetValue(datasets),
                parse.GetValue(quiet),
                ["causaleval", .. commandLine])
            {
                Prompts = parse.GetValue(prompts) ?? [],
                Naming = parse.GetValue(names) ?? NamingSchemes.Default,
            };
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
        int? Concurrency,
        string? Output,
        string? Resume,
        string? Datasets,
        bool Quiet,
        IReadOnlyList<string> CommandLine)
    {
        /// <summary>Prompt variants for chat models (empty: the default variant).</summary>
        public IReadOnlyList<string> Prompts { get; init; } = [];

        /// <summary>Naming scheme for chat models.</summary>
        public string Naming { get; init; } = NamingSchemes.Default;
    }

    /// <summary>A run ready to start: its folder, manifest, plan, episodes, and what an earlier attempt finished.</summary>
    private sealed record PreparedRun(
        string Directory, RunManifest Manifest, RunPlan Plan, IReadOnlyList<TaskEpisodes> Tasks, HashSet<string> Finished, Leaderboard Leaderboard);

    internal static async Task<int> ExecuteAsync(RunOptions options, CliConsole console, ModelCatalog catalog, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (options.Concurrency is < 1)
        {
            throw new InputException("--concurrency", options.Concurrency.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        var run = options.Resume is { } resumeDirectory
            ? Resume(resumeDirectory, options, catalog, console)
            : Start(options, catalog, time);

        RunOutcome outcome;
        await using (var store = new JsonlResultStore(run.Directory))
        {
            using var progress = RunProgress.Create(console, run.Manifest.TrialsPlanned - run.Finished.Count, options.Quiet);
            outcome = await new Runner(catalog, time)
                .RunAsync(run.Plan, run.Tasks, store, run.Leaderboard, progress, cancellationToken, run.Finished)
                .ConfigureAwait(false);
        }
        var markdown = run.Leaderboard.ToMarkdown(run.Manifest.RunId);
        await File.WriteAllTextAsync(Path.Combine(run.Directory, "leaderboard.md"), markdown, new UTF8Encoding(false), CancellationToken.None)
            .ConfigureAwait(false);
        var written = run.Finished.Count + outcome.Written;
        var manifest = run.Manifest with
        {
            Status = outcome.Cancelled ? "interrupted" : outcome.Errors + run.Manifest.TrialErrors > 0 ? "failed" : "finished",
            TrialsWritten = written,
            TrialErrors = run.Manifest.TrialErrors + outcome.Errors,
            FinishedAt = time.GetUtcNow(),
        };
        manifest.Save(run.Directory);

        await console.Out.WriteAsync(markdown).ConfigureAwait(false);
        await console.Out.WriteLineAsync().ConfigureAwait(false);
        await console.Out.WriteLineAsync($"results: {run.Directory} ({written} of {manifest.TrialsPlanned} trials)").ConfigureAwait(false);
        if (outcome.Cancelled)
        {
            await console.Error.WriteLineAsync(
                $"interrupted after {written} of {manifest.TrialsPlanned} trials; finish with: causaleval run --resume {run.Directory}").ConfigureAwait(false);
            return CliApp.Failed;
        }
        if (manifest.TrialErrors > 0)
        {
            await console.Error.WriteLineAsync($"{manifest.TrialErrors} trials ended in an error; see \"error\" in {JsonlResultStore.FileName}").ConfigureAwait(false);
            return CliApp.Failed;
        }
        return CliApp.Ok;
    }

    /// <summary>A new run. Everything is checked before the run folder exists, so bad input leaves nothing behind.</summary>
    private static PreparedRun Start(RunOptions options, ModelCatalog catalog, TimeProvider time)
    {
        if (options.Episodes is < 1)
        {
            throw new InputException("--episodes", options.Episodes.Value.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        if (options.Epochs < 1)
        {
            throw new InputException("--epochs", options.Epochs.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        }
        var datasets = TaskCatalog.Locate(options.Datasets);
        var taskIds = options.Tasks.Count > 0 ? options.Tasks.Distinct().ToList() : datasets.TaskIds();
        var selected = taskIds.Select(id => new TaskEpisodes(datasets.Load(id), [.. datasets.LoadTestSplit(id, options.Episodes)])).ToList();
        var modelIds = options.Models.Count > 0 ? options.Models.Distinct().ToList() : DefaultModels();
        if (!NamingSchemes.All.Contains(options.Naming))
        {
            throw new InputException("--names", options.Naming, $"unknown naming scheme (known: {string.Join(", ", NamingSchemes.All)})");
        }
        // Chat models play every --prompt variant (default: the default variant) under the --names scheme; other models once.
        var promptModels = modelIds.Where(catalog.TakesPrompts).ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string?> variants = [null];
        if (promptModels.Count > 0)
        {
            var library = PromptLibrary.Locate();
            var wanted = options.Prompts.Count > 0 ? options.Prompts.Distinct().ToList() : [PromptLibrary.DefaultVariant];
            library.Check(wanted, selected.Select(t => t.Task.Family));
            library.Names(options.Naming);
            variants = wanted;
        }
        foreach (var model in modelIds)
        {
            catalog.Resolve(model);
        }
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = modelIds,
            PromptModels = promptModels,
            PromptVariants = variants,
            Naming = promptModels.Count > 0 ? options.Naming : null,
            Epochs = options.Epochs,
            Seed = options.Seed,
            Concurrency = options.Concurrency ?? Environment.ProcessorCount,
            Episodes = options.Episodes,
        };

        var startedAt = time.GetUtcNow();
        var runId = $"{startedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var directory = options.Output ?? Path.Combine("results", runId);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new InputException("--out", directory, "the folder is not empty; choose a new one (or --resume it)");
        }
        Directory.CreateDirectory(directory);
        var manifest = new RunManifest
        {
            RunId = runId,
            CommandLine = options.CommandLine,
            ToolVersion = BuildInfo.Version,
            GitRevision = BuildInfo.GitRevision,
            Tasks = [.. selected.Select(t => new ManifestTask(t.Task.Id, t.Task.Version, plan.Split, t.Episodes.Count,
                TaskCatalog.Sha256(datasets.TestSplitPath(t.Task.Id))))],
            Models = modelIds,
            PromptVariants = plan.PromptVariants,
            Naming = plan.Naming,
            Seed = plan.Seed,
            Epochs = plan.Epochs,
            Concurrency = plan.Concurrency,
            TrialsPlanned = Runner.CountTrials(plan, selected),
            Status = "running",
            StartedAt = startedAt,
        };
        manifest.Save(directory);
        return new PreparedRun(directory, manifest, plan, selected, [], new Leaderboard());
    }

    /// <summary>
    /// An interrupted run: the plan is rebuilt from run.json, checked against the datasets it used, a torn last line is
    /// cut off, and every trial already in trials.jsonl is counted and skipped.
    /// </summary>
    private static PreparedRun Resume(string directory, RunOptions options, ModelCatalog catalog, CliConsole console)
    {
        var manifest = RunManifest.Load(directory);
        var manifestPath = Path.Combine(directory, RunManifest.FileName);
        var datasets = TaskCatalog.Locate(options.Datasets);
        var selected = new List<TaskEpisodes>();
        foreach (var (entry, i) in manifest.Tasks.Select((t, i) => (t, i)))
        {
            var task = datasets.Load(entry.Id);
            if (task.Version != entry.Version)
            {
                throw new InputException(manifestPath, $"tasks[{i}].version", $"the run used {entry.Id} version {entry.Version}, the datasets hold version {task.Version}");
            }
            if (TaskCatalog.Sha256(datasets.TestSplitPath(entry.Id)) != entry.DatasetSha256)
            {
                throw new InputException(manifestPath, $"tasks[{i}].dataset_sha256", $"the test split of {entry.Id} changed since the run started");
            }
            selected.Add(new TaskEpisodes(task, [.. datasets.LoadTestSplit(entry.Id, entry.Episodes)]));
        }
        foreach (var model in manifest.Models)
        {
            catalog.Resolve(model);
        }
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = manifest.Models,
            PromptModels = manifest.Models.Where(catalog.TakesPrompts).ToHashSet(StringComparer.Ordinal),
            PromptVariants = manifest.PromptVariants,
            Naming = manifest.Naming,
            Epochs = manifest.Epochs,
            Seed = manifest.Seed,
            Concurrency = options.Concurrency ?? manifest.Concurrency,
        };

        var trialsPath = Path.Combine(directory, JsonlResultStore.FileName);
        if (TrialLog.RepairTornTail(trialsPath) is > 0 and var removed)
        {
            console.Error.WriteLine($"removed an incomplete last line ({removed} bytes) from {trialsPath}");
        }
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var leaderboard = new Leaderboard();
        long errors = 0;
        if (File.Exists(trialsPath))
        {
            foreach (var trial in TrialLog.Read(trialsPath))
            {
                if (finished.Add(trial.TrialId))
                {
                    leaderboard.Add(trial);
                    errors += trial.Failed ? 1 : 0;
                }
            }
        }
        console.Error.WriteLine($"resuming {manifest.RunId}: {finished.Count} of {manifest.TrialsPlanned} trials already done");
        var resumed = manifest with
        {
            Status = "running",
            TrialErrors = errors,
            CommandLine = [.. manifest.CommandLine],
            FinishedAt = null,
        };
        resumed.Save(directory);
        return new PreparedRun(directory, resumed, plan, selected, finished, leaderboard);
    }
}
