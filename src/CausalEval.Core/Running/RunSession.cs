using System.Text;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.Running;

/// <summary>What a new run records about itself in <c>run.json</c> beyond its plan.</summary>
public sealed record RunIdentity
{
    /// <summary>The command line (or API call) that started the run.</summary>
    public IReadOnlyList<string> CommandLine { get; init; } = [];

    public string ToolVersion { get; init; } = "0.0.0";

    public string GitRevision { get; init; } = "unknown";

    /// <summary>The spending cap in US dollars; null: none.</summary>
    public double? MaxCostUsd { get; init; }

    /// <summary>How model calls are made (cache, resilience, limits, prices) as a JSON object; null for runs without chat models.</summary>
    public string? CallPolicyJson { get; init; }
}

/// <summary>How an attempt at a run ended: its folder, final manifest and status, what this attempt did, and the leaderboard.</summary>
public sealed record RunResult(string Directory, RunManifest Manifest, RunOutcome Outcome, Leaderboard Leaderboard, string LeaderboardMarkdown)
{
    public RunStatus Status => Manifest.Status;
}

/// <summary>
/// One run folder from its plan to its final status — the single pipeline behind <c>causaleval run</c>, <c>bench</c>,
/// the baseline's evaluation and the library API. <see cref="Start"/> makes a new run (folder and <c>run.json</c>);
/// <see cref="Resume"/> reopens an interrupted one (its plan from <c>run.json</c>, checked against the datasets; a torn
/// last line cut off; finished trials counted and skipped). <see cref="RunAsync"/> plays the remaining trials into
/// <c>trials.jsonl</c>, writes <c>leaderboard.md</c> and the final <c>run.json</c>, and returns the outcome.
/// Every folder it writes is one <c>causaleval report</c> reads.
/// </summary>
public sealed class RunSession
{
    private readonly HashSet<string> _finished;

    private RunSession(string directory, RunManifest manifest, RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, HashSet<string> finished,
        Leaderboard leaderboard, Usage usageSoFar, double spentUsd)
    {
        Directory = directory;
        Manifest = manifest;
        Plan = plan;
        Tasks = tasks;
        _finished = finished;
        Leaderboard = leaderboard;
        UsageSoFar = usageSoFar;
        SpentUsd = spentUsd;
    }

    public string Directory { get; }

    /// <summary>The manifest as it stands (status running until <see cref="RunAsync"/> ends).</summary>
    public RunManifest Manifest { get; private set; }

    public RunPlan Plan { get; }

    public IReadOnlyList<TaskEpisodes> Tasks { get; }

    /// <summary>Trial ids written by earlier attempts (a resumed run); none for a new run.</summary>
    public IReadOnlySet<string> Finished => _finished;

    /// <summary>The run's leaderboard, holding the earlier attempts' trials already.</summary>
    public Leaderboard Leaderboard { get; }

    /// <summary>Usage of the trials written by earlier attempts.</summary>
    public Usage UsageSoFar { get; }

    /// <summary>US dollars spent by earlier attempts.</summary>
    public double SpentUsd { get; }

    /// <summary>Trials this attempt still has to play.</summary>
    public long Remaining => Manifest.TrialsPlanned - _finished.Count;

    public string TrialsPath => Path.Combine(Directory, JsonlResultStore.FileName);

    /// <summary>A new run's folder name: its start time and a random suffix.</summary>
    public static string NewRunId(DateTimeOffset startedAt) => $"{startedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// Creates the run folder (<paramref name="directory"/>, default <c>results/&lt;run-id&gt;</c>) and its <c>run.json</c>.
    /// The folder must be new or empty; check every other input before calling, so bad input leaves nothing behind.
    /// </summary>
    /// <param name="datasets">Where the tasks' committed splits are (their sha256 goes into <c>run.json</c>).</param>
    public static RunSession Start(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, TaskCatalog datasets, RunIdentity identity, string? directory,
        TimeProvider time)
    {
        var startedAt = time.GetUtcNow();
        var runId = NewRunId(startedAt);
        directory ??= Path.Combine("results", runId);
        if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new InputException("--out", directory, "the folder is not empty; choose a new one (or --resume it)");
        }
        if (File.Exists(directory))
        {
            throw new InputException("--out", directory, "is a file, not a folder; choose a new folder");
        }
        var manifest = new RunManifest
        {
            RunId = runId,
            CommandLine = identity.CommandLine,
            ToolVersion = identity.ToolVersion,
            GitRevision = identity.GitRevision,
            Tasks = [.. tasks.Select(t => new ManifestTask(t.Task.Id, t.Task.Version, plan.Split, t.Episodes.Count,
                TaskCatalog.Sha256(datasets.SplitPath(t.Task.Id, plan.Split))))],
            Models = plan.Models,
            ModelNames = plan.ModelNames,
            PromptVariants = plan.PromptVariants,
            Naming = plan.Naming,
            Seed = plan.Seed,
            Epochs = plan.Epochs,
            Concurrency = plan.Concurrency,
            TrialsPlanned = Runner.CountTrials(plan, tasks),
            Shard = plan.Shard,
            Status = RunStatus.Running,
            StartedAt = startedAt,
            MaxCostUsd = identity.MaxCostUsd,
            CallPolicyJson = identity.CallPolicyJson,
        };
        var created = !System.IO.Directory.Exists(directory);
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            manifest.Save(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A path under a file, a read-only or virtual file system (/proc), a full disk: bad input, with nothing left behind.
            if (created && System.IO.Directory.Exists(directory))
            {
                try
                {
                    System.IO.Directory.Delete(directory, recursive: true);
                }
                catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
                {
                    // Nothing more can be done about a folder that cannot be removed.
                }
            }
            throw new InputException("--out", directory, $"the run folder cannot be created there ({ex.Message})");
        }
        return new RunSession(directory, manifest, plan, tasks, new HashSet<string>(StringComparer.Ordinal), new Leaderboard(), default, 0);
    }

    /// <summary>
    /// Reads an interrupted run's plan back: <c>run.json</c> (as <see cref="RunManifest.Load"/> read it), its tasks checked
    /// against <paramref name="datasets"/> (same version, same test split). Creates and changes nothing.
    /// </summary>
    /// <param name="takesPrompts">Which models play prompt variants (the catalog's <see cref="ModelCatalog.TakesPrompts"/>).</param>
    /// <param name="concurrency">Another concurrency for this attempt; null keeps the run's.</param>
    public static (RunPlan Plan, IReadOnlyList<TaskEpisodes> Tasks) ResumedPlan(string directory, RunManifest manifest, TaskCatalog datasets,
        Func<string, bool> takesPrompts, int? concurrency)
    {
        var manifestPath = Path.Combine(directory, RunManifest.FileName);
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
        var plan = new RunPlan
        {
            Tasks = [.. selected.Select(t => t.Task)],
            Models = manifest.Models,
            ModelNames = manifest.ModelNames,
            PromptModels = manifest.Models.Where(takesPrompts).ToHashSet(StringComparer.Ordinal),
            PromptVariants = manifest.PromptVariants,
            Naming = manifest.Naming,
            Epochs = manifest.Epochs,
            Seed = manifest.Seed,
            Concurrency = concurrency ?? manifest.Concurrency,
            Split = manifest.Tasks.Count > 0 ? manifest.Tasks[0].Split : TaskDefinition.TestSplit,
            Shard = manifest.Shard,
        };
        return (plan, selected);
    }

    /// <summary>
    /// Reopens an interrupted run for another attempt: a torn last line of <c>trials.jsonl</c> is cut off (reported to
    /// <paramref name="notice"/>), every trial already written is counted (and skipped by <see cref="RunAsync"/>), and
    /// <c>run.json</c> goes back to status running.
    /// </summary>
    public static RunSession Resume(string directory, RunManifest manifest, RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, Action<string>? notice = null)
    {
        var trialsPath = Path.Combine(directory, JsonlResultStore.FileName);
        if (TrialLog.RepairTornTail(trialsPath) is > 0 and var removed)
        {
            notice?.Invoke($"removed an incomplete last line ({removed} bytes) from {trialsPath}");
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
        notice?.Invoke($"resuming {manifest.RunId}: {finished.Count} of {manifest.TrialsPlanned} trials already done");
        var resumed = manifest with
        {
            Status = RunStatus.Running,
            TrialErrors = errors,
            CommandLine = [.. manifest.CommandLine],
            FinishedAt = null,
        };
        resumed.Save(directory);
        return new RunSession(directory, resumed, plan, tasks, finished, leaderboard, usage, spent);
    }

    /// <summary>
    /// Plays every trial not written yet into <c>trials.jsonl</c> (in plan order), then writes <c>leaderboard.md</c> and the
    /// final <c>run.json</c>. Cancelling <paramref name="cancellationToken"/> stops scheduling: trials in flight finish and
    /// are written, and the run ends interrupted (a resume finishes it).
    /// </summary>
    /// <param name="maxCostUsd">This attempt's spending cap (default: the one in <c>run.json</c>).</param>
    public async Task<RunResult> RunAsync(ModelCatalog models, TimeProvider time, ICostModel? costs = null, IProgress<long>? progress = null,
        double? maxCostUsd = null, CancellationToken cancellationToken = default)
    {
        var maxCost = maxCostUsd ?? Manifest.MaxCostUsd;
        RunOutcome outcome;
        using (var budget = new RunBudget(maxCost, SpentUsd))
        await using (var store = new JsonlResultStore(Directory))
        {
            outcome = await new Runner(models, time, costs)
                .RunAsync(Plan, Tasks, store, Leaderboard, progress, cancellationToken, _finished, budget: budget)
                .ConfigureAwait(false);
        }
        var markdown = Leaderboard.ToMarkdown(Manifest.RunId);
        await File.WriteAllTextAsync(Path.Combine(Directory, "leaderboard.md"), markdown, new UTF8Encoding(false), CancellationToken.None)
            .ConfigureAwait(false);
        var errors = Manifest.TrialErrors + outcome.Errors;
        Manifest = Manifest with
        {
            Status = StatusOf(outcome, errors),
            TrialsWritten = _finished.Count + outcome.Written,
            TrialErrors = errors,
            CostUsd = SpentUsd + outcome.CostUsd,
            MaxCostUsd = maxCost,
            Usage = UsageSoFar + outcome.Usage,
            FinishedAt = time.GetUtcNow(),
        };
        Manifest.Save(Directory);
        return new RunResult(Directory, Manifest, outcome, Leaderboard, markdown);
    }

    /// <summary>How an attempt ends: interrupted or stopped by the budget before the end, else failed when any trial of the run ended in an error.</summary>
    public static RunStatus StatusOf(RunOutcome outcome, long runErrors) =>
        outcome.Cancelled ? RunStatus.Interrupted
        : outcome.StoppedByBudget ? RunStatus.StoppedByBudget
        : runErrors > 0 ? RunStatus.Failed
        : RunStatus.Finished;
}
