using System.Text;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Results;

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

    /// <summary>Where the run folder was named, for messages about it: null for <c>--out</c>, else e.g. a plan's <c>plan.yaml:7</c> (field <c>out</c>).</summary>
    public string? OutputOrigin { get; init; }
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
public sealed class RunSession : IDisposable
{
    /// <summary>While a run is played, <c>run.json</c>'s counters are brought up to date at least this often (as trials are written).</summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);

    private readonly IReadOnlySet<string> _finished;
    private RunFolderLock? _lock;

    private RunSession(string directory, RunManifest manifest, RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, IReadOnlySet<string> finished,
        Leaderboard leaderboard, Usage usageSoFar, double spentUsd, RunFolderLock folderLock)
    {
        _lock = folderLock;
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
        var folder = directory;
        // Named as the user named it: the option, or the plan's line and field.
        InputException Bad(string problem) => identity.OutputOrigin is { } origin
            ? new InputException(origin, "out", $"{folder}: {problem}")
            : new InputException("--out", folder, problem);
        if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw Bad("the folder is not empty; choose a new one (or --resume it)");
        }
        if (File.Exists(directory))
        {
            throw Bad("is a file, not a folder; choose a new folder");
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
            Observer = plan.Observer,
            TrialsPlanned = Runner.CountTrials(plan, tasks),
            Shard = plan.Shard,
            Status = RunStatus.Running,
            StartedAt = startedAt,
            MaxCostUsd = identity.MaxCostUsd,
            CallPolicyJson = identity.CallPolicyJson,
        };
        var created = !System.IO.Directory.Exists(directory);
        RunFolderLock? folderLock = null;
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            folderLock = RunFolderLock.Acquire(directory, "--out");
            manifest.Save(directory);
        }
        catch (InputException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A path under a file, a read-only or virtual file system (/proc), a full disk: bad input, with nothing left behind.
            folderLock?.Dispose();
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
            throw Bad($"the run folder cannot be created there ({ex.Message})");
        }
        return new RunSession(directory, manifest, plan, tasks, new HashSet<string>(StringComparer.Ordinal), new Leaderboard(), default, 0, folderLock);
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
            var episodes = datasets.LoadEpisodes(task, entry.Split, entry.Episodes).ToList();
            if (episodes.Count != entry.Episodes)
            {
                throw new InputException(manifestPath, $"tasks[{i}].episodes",
                    $"the run played {entry.Episodes} episodes of {entry.Id}, its {entry.Split} split has {episodes.Count}: run.json was edited");
            }
            selected.Add(new TaskEpisodes(task, episodes));
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
            Observer = manifest.Observer,
        };
        // The plan is rebuilt from what run.json records; its own count must agree, or the file was edited.
        var planned = Runner.CountTrials(plan, selected);
        if (planned != manifest.TrialsPlanned)
        {
            throw new InputException(manifestPath, "trials_planned",
                $"says {manifest.TrialsPlanned}, but the plan it records (tasks, episodes, models, prompt variants, epochs, shard) has {planned} trials: run.json was edited");
        }
        return (plan, selected);
    }

    /// <summary>
    /// Reopens an interrupted run for another attempt: the folder is locked for this process (another one playing it is
    /// bad input), a torn last line of <c>trials.jsonl</c> is cut off (reported to <paramref name="notice"/>), every line is
    /// checked against the plan and only one line per trial is kept (<see cref="ResumedTrials"/>), the counts are taken
    /// from those lines, and <c>run.json</c> goes back to status running. With <paramref name="retryErrors"/>, trials that
    /// ended in a retryable error are removed from the results and played again.
    /// </summary>
    public static RunSession Resume(string directory, RunManifest manifest, RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, Action<string>? notice = null,
        bool retryErrors = false)
    {
        var folderLock = RunFolderLock.Acquire(directory, "--resume");
        try
        {
            var trialsPath = Path.Combine(directory, JsonlResultStore.FileName);
            if (TrialLog.RepairTornTail(trialsPath) is > 0 and var removed)
            {
                notice?.Invoke($"removed an incomplete last line ({removed} bytes) from {trialsPath}");
            }
            var done = ResumedTrials.Load(trialsPath, plan, tasks, retryErrors);
            if (done.DuplicatesRemoved > 0)
            {
                notice?.Invoke($"removed {done.DuplicatesRemoved} duplicate lines from {trialsPath} (one line is kept per trial)");
            }
            if (retryErrors)
            {
                notice?.Invoke($"--retry-errors: {done.ErrorsToReplay} trials that ended in a retryable error are played again");
            }
            var leaderboard = new Leaderboard();
            foreach (var trial in done.Kept)
            {
                leaderboard.Add(trial);
            }
            notice?.Invoke($"resuming {manifest.RunId}: {done.Finished.Count} of {manifest.TrialsPlanned} trials already done");
            var resumed = manifest with
            {
                Status = RunStatus.Running,
                TrialsWritten = done.Finished.Count,
                TrialErrors = done.Errors,
                CostUsd = done.SpentUsd,
                Usage = done.Usage,
                CommandLine = [.. manifest.CommandLine],
                FinishedAt = null,
                FailureReason = null,
            };
            resumed.Save(directory);
            return new RunSession(directory, resumed, plan, tasks, done.Finished, leaderboard, done.Usage, done.SpentUsd, folderLock);
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    /// <summary>Lets another process play the folder (done by <see cref="RunAsync"/> when it ends).</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _lock, null)?.Dispose();
    }

    /// <summary>
    /// Plays every trial not written yet into <c>trials.jsonl</c> (in plan order), then writes <c>leaderboard.md</c> and the
    /// final <c>run.json</c>. Cancelling <paramref name="cancellationToken"/> stops scheduling: trials in flight finish and
    /// are written, and the run ends interrupted (a resume finishes it).
    /// </summary>
    /// <param name="maxCostUsd">This attempt's spending cap (default: the one in <c>run.json</c>).</param>
    /// <param name="counters">Done, total, errors and cost of this attempt, each time a trial is written.</param>
    /// <param name="store">Where trials go (default: the folder's <c>trials.jsonl</c>); a seam for tests of failing writes.</param>
    public async Task<RunResult> RunAsync(ModelCatalog models, TimeProvider time, ICostModel? costs = null, IProgress<long>? progress = null,
        double? maxCostUsd = null, CancellationToken cancellationToken = default, IProgress<RunCounters>? counters = null, IResultStore? store = null,
        Runner? runner = null)
    {
        try
        {
            return await PlayAsync(models, time, costs, progress, maxCostUsd, counters, store, runner, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Dispose();
        }
    }

    private async Task<RunResult> PlayAsync(ModelCatalog models, TimeProvider time, ICostModel? costs, IProgress<long>? progress,
        double? maxCostUsd, IProgress<RunCounters>? counters, IResultStore? store, Runner? runner, CancellationToken cancellationToken)
    {
        var maxCost = maxCostUsd ?? Manifest.MaxCostUsd;
        RunOutcome outcome;
        // run.json's counters follow the trials written, saved every CheckpointInterval (atomically), so a run can be watched.
        long written = 0, errors = 0;
        var usage = default(Usage);
        var cost = 0.0;
        var lastSaved = time.GetTimestamp();
        var remaining = Remaining;
        string? checkpointFailure = null;
        void Written(TrialRecord record)
        {
            written++;
            errors += record.Error is null ? 0 : 1;
            usage += record.Usage;
            cost += record.Cost;
            counters?.Report(new RunCounters(written, remaining, errors, cost));
            if (time.GetElapsedTime(lastSaved) < CheckpointInterval || checkpointFailure is not null)
            {
                return;
            }
            try
            {
                Counted(written, errors, usage, cost).Save(Directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                checkpointFailure = ex.Message;
            }
            lastSaved = time.GetTimestamp();
        }
        using (var budget = new RunBudget(maxCost, SpentUsd))
        {
            var owned = store is null ? new JsonlResultStore(Directory) : null;
            try
            {
                outcome = await (runner ?? new Runner(models, time, costs))
                    .RunAsync(Plan, Tasks, store ?? owned!, Leaderboard, progress, cancellationToken, _finished, budget: budget, written: Written)
                    .ConfigureAwait(false);
            }
            finally
            {
                if (owned is not null)
                {
                    await owned.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        var markdown = Leaderboard.ToMarkdown(Manifest.RunId);
        var failure = outcome.FailureReason;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(Directory, "leaderboard.md"), markdown, new UTF8Encoding(false), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failure ??= $"writing leaderboard.md failed: {ex.Message}";
        }
        var runErrors = Manifest.TrialErrors + outcome.Errors;
        Manifest = Counted(outcome.Written, outcome.Errors, outcome.Usage, outcome.CostUsd) with
        {
            Status = failure is not null && !outcome.Cancelled ? RunStatus.Failed : StatusOf(outcome, runErrors),
            MaxCostUsd = maxCost,
            FinishedAt = time.GetUtcNow(),
            FailureReason = failure,
            StoppedModels = outcome.StoppedModels,
        };
        try
        {
            Manifest.Save(Directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // run.json still says running: a resume (once there is room again) finishes the run.
            throw new RunFailedException($"{Path.Combine(Directory, RunManifest.FileName)} could not be written ({ex.Message}); " +
                $"free some space and finish with --resume {Directory}", ex);
        }
        return new RunResult(Directory, Manifest, outcome, Leaderboard, markdown);
    }

    /// <summary>The manifest with this attempt's counts added to the earlier attempts'.</summary>
    private RunManifest Counted(long written, long errors, Usage usage, double cost) => Manifest with
    {
        TrialsWritten = _finished.Count + written,
        TrialErrors = Manifest.TrialErrors + errors,
        CostUsd = SpentUsd + cost,
        Usage = UsageSoFar + usage,
    };

    /// <summary>How an attempt ends: interrupted or stopped by the budget before the end, else failed when any trial of the run ended in an error.</summary>
    public static RunStatus StatusOf(RunOutcome outcome, long runErrors) =>
        outcome.Cancelled ? RunStatus.Interrupted
        : outcome.StoppedByBudget ? RunStatus.StoppedByBudget
        : runErrors > 0 ? RunStatus.Failed
        : RunStatus.Finished;
}
