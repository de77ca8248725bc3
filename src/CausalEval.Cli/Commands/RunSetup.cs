using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;

namespace CausalEval.Cli.Commands;

/// <summary>
/// A run ready to start: its folder, manifest, plan, episodes, and what an earlier attempt finished (trial ids, their
/// usage and cost).
/// </summary>
internal sealed record PreparedRun(
    string Directory, RunManifest Manifest, RunPlan Plan, IReadOnlyList<TaskEpisodes> Tasks, HashSet<string> Finished, Leaderboard Leaderboard,
    Usage UsageSoFar = default, double SpentUsd = 0);

/// <summary>
/// Gets a run ready before its first trial: a new run from its options, or an interrupted one from its run.json. Every
/// input is checked before a run folder is created, so bad input leaves nothing behind.
/// </summary>
internal static class RunSetup
{
    /// <summary>
    /// A new run's call policy: the plan's limits, the cache options, and the prices — the committed defaults, then
    /// <c>--prices</c> (or the plan's <c>prices</c> file), then the plan's per-model prices.
    /// </summary>
    internal static CallPolicy NewPolicy(RunCommand.RunOptions options)
    {
        var prices = PriceTable.Empty;
        try
        {
            prices = PriceTable.Default(PromptLibrary.Locate().Root);
        }
        catch (InputException)
        {
            // No prompts folder: only built-in agents can run, and they cost nothing.
        }
        if (options.PricesFile is { } file)
        {
            prices = prices.With(PriceTable.Load(file).All, file);
        }
        var plan = options.Plan;
        if (plan is not null)
        {
            prices = prices.With(plan.ModelPrices, plan.Path);
        }
        return new CallPolicy
        {
            Cache = new CacheSettings(!options.NoCache, options.CacheDirectory is { } dir ? Path.GetFullPath(dir) : null),
            Resilience = plan?.Resilience ?? new ResilienceSettings(),
            Providers = plan?.ProviderLimits ?? new Dictionary<string, CallLimits>(),
            Models = plan?.ModelLimits ?? new Dictionary<string, CallLimits>(),
            Prices = prices,
        };
    }

    /// <summary>A resumed run's call policy, as run.json recorded it (its prices too); only the cache options may change.</summary>
    internal static CallPolicy ResumedPolicy(string directory, RunManifest manifest, RunCommand.RunOptions options)
    {
        var policy = manifest.CallPolicyJson is { } json
            ? CallPolicy.FromJson(Path.Combine(directory, RunManifest.FileName) + ":call_policy", json)
            : new CallPolicy();
        var cache = policy.Cache;
        if (options.NoCache)
        {
            cache = cache with { Enabled = false };
        }
        if (options.CacheDirectory is { } dir)
        {
            cache = new CacheSettings(cache.Enabled, Path.GetFullPath(dir));
        }
        return policy with { Cache = cache };
    }

    /// <summary>A budget needs a price for every chat model (bad input otherwise); without one, a missing price is a warning.</summary>
    private static void CheckPrices(IEnumerable<string> models, ModelCatalog catalog, PriceTable prices, double? maxCost, CliConsole console)
    {
        foreach (var model in models.Where(catalog.TakesPrompts))
        {
            if (prices.Find(model) is not null)
            {
                continue;
            }
            if (maxCost is { } cap)
            {
                throw new InputException("--max-cost", cap.ToString(CultureInfo.InvariantCulture),
                    $"no price for {model} in {prices.Source}: add it with --prices FILE or a plan's models[].price");
            }
            console.Error.WriteLine($"warning: no price for {model} in {prices.Source}; its cost is counted as 0");
        }
    }

    /// <summary>A new run. Everything is checked before the run folder exists, so bad input leaves nothing behind.</summary>
    internal static PreparedRun Start(RunCommand.RunOptions options, ModelCatalog catalog, TimeProvider time, CallPolicy policy, CliConsole console)
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
        var selected = taskIds.Select(id => new TaskEpisodes(datasets.Load(id), [.. datasets.LoadSplit(id, options.Split, options.Episodes)])).ToList();
        var modelIds = options.Models.Count > 0 ? options.Models.Distinct().ToList() : RunCommand.DefaultModels();
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
        CheckPrices(modelIds, catalog, policy.Prices, options.MaxCost, console);
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
            Split = options.Split,
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
                TaskCatalog.Sha256(datasets.SplitPath(t.Task.Id, plan.Split))))],
            Models = modelIds,
            PromptVariants = plan.PromptVariants,
            Naming = plan.Naming,
            Seed = plan.Seed,
            Epochs = plan.Epochs,
            Concurrency = plan.Concurrency,
            TrialsPlanned = Runner.CountTrials(plan, selected),
            Status = "running",
            StartedAt = startedAt,
            MaxCostUsd = options.MaxCost,
            CallPolicyJson = promptModels.Count > 0 ? policy.ToJson(modelIds) : null,
        };
        manifest.Save(directory);
        return new PreparedRun(directory, manifest, plan, selected, [], new Leaderboard());
    }

    /// <summary>
    /// An interrupted run: the plan is rebuilt from run.json, checked against the datasets it used, a torn last line is
    /// cut off, and every trial already in trials.jsonl is counted and skipped.
    /// </summary>
    internal static PreparedRun Resume(string directory, RunManifest manifest, RunCommand.RunOptions options, ModelCatalog catalog, CliConsole console, CallPolicy policy)
    {
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
            if (TaskCatalog.Sha256(datasets.SplitPath(entry.Id, entry.Split)) != entry.DatasetSha256)
            {
                throw new InputException(manifestPath, $"tasks[{i}].dataset_sha256", $"the {entry.Split} split of {entry.Id} changed since the run started");
            }
            selected.Add(new TaskEpisodes(task, [.. datasets.LoadSplit(entry.Id, entry.Split, entry.Episodes)]));
        }
        foreach (var model in manifest.Models)
        {
            catalog.Resolve(model);
        }
        CheckPrices(manifest.Models, catalog, policy.Prices, options.MaxCost ?? manifest.MaxCostUsd, console);
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
            Split = manifest.Tasks.Count > 0 ? manifest.Tasks[0].Split : TaskDefinition.TestSplit,
        };

        var trialsPath = Path.Combine(directory, JsonlResultStore.FileName);
        if (TrialLog.RepairTornTail(trialsPath) is > 0 and var removed)
        {
            console.Error.WriteLine($"removed an incomplete last line ({removed} bytes) from {trialsPath}");
        }
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var leaderboard = new Leaderboard();
        long errors = 0;
        var usage = default(Usage);
        var spent = 0.0;
        if (File.Exists(trialsPath))
        {
            foreach (var trial in TrialLog.Read(trialsPath))
            {
                if (finished.Add(trial.TrialId))
                {
                    leaderboard.Add(trial);
                    errors += trial.Failed ? 1 : 0;
                    usage += trial.Usage;
                    spent += trial.Cost;
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
        return new PreparedRun(directory, resumed, plan, selected, finished, leaderboard, usage, spent);
    }
}
