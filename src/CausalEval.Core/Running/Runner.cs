using System.Globalization;
using System.Threading.Channels;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.Running;

/// <summary>A task with the episodes a run plays from it.</summary>
public sealed record TaskEpisodes(TaskDefinition Task, IReadOnlyList<Episode> Episodes);

/// <summary>How a run ended.</summary>
public sealed record RunOutcome(long Planned, long Written, long Errors, bool Cancelled);

/// <summary>
/// Plays tasks × models × prompt variants × epochs with bounded concurrency. Trials have deterministic ids and
/// seeds; results reach the store in plan order, so the same seed gives the same <c>trials.jsonl</c>.
/// </summary>
public sealed class Runner(ModelCatalog models, TimeProvider time)
{
    /// <summary>Finished trials may wait this many times the concurrency for an earlier, slower one before writing.</summary>
    private const int ReorderWindowPerWorker = 4;

    public static long CountTrials(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks)
        => tasks.Sum(t => (long)t.Episodes.Count) * plan.Models.Sum(m => (long)plan.VariantsFor(m).Count) * plan.Epochs;

    /// <summary>Every trial of the plan, lazily, in plan order: task, episode, model, prompt variant, epoch.</summary>
    public static IEnumerable<TrialSpec> PlanTrials(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks)
    {
        long index = 0;
        var seedText = plan.Seed.ToString(CultureInfo.InvariantCulture);
        foreach (var (task, episodes) in tasks)
        {
            var version = task.Version.ToString(CultureInfo.InvariantCulture);
            foreach (var episode in episodes)
            {
                for (var epoch = 1; epoch <= plan.Epochs; epoch++)
                {
                    var epochText = epoch.ToString(CultureInfo.InvariantCulture);
                    // Environment noise depends on the episode and epoch only, so every model meets the same draws.
                    var environmentSeed = StableId.Seed("environment", task.Id, version, episode.Id, epochText, seedText) & ((1UL << 53) - 1);
                    foreach (var model in plan.Models)
                    {
                        var naming = plan.NamingFor(model);
                        foreach (var variant in plan.VariantsFor(model))
                        {
                            // The naming scheme joins the id only when there is one, so ids of other models stay as they were.
                            var trialId = naming is null
                                ? StableId.Hex16(task.Id, version, plan.Split, episode.Id, model, variant, epochText, seedText)
                                : StableId.Hex16(task.Id, version, plan.Split, episode.Id, model, variant, epochText, seedText, naming);
                            yield return new TrialSpec(index++, trialId, task.Id, task.Version, plan.Split, episode, model, variant,
                                epoch, environmentSeed, StableId.Seed("agent", trialId), naming, task);
                        }
                    }
                }
            }
        }
    }

    /// <param name="stopScheduling">Cancelled: no new trial starts; trials already started finish and are written.</param>
    /// <param name="finished">Trial ids already in the results (a resumed run): they are not played again.</param>
    /// <param name="abort">Cancelled: trials in flight are abandoned too (they are not written).</param>
    public async Task<RunOutcome> RunAsync(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, IResultStore store,
        Leaderboard leaderboard, IProgress<long>? progress = null, CancellationToken stopScheduling = default,
        IReadOnlySet<string>? finished = null, CancellationToken abort = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Concurrency, 1);
        // Resolve every model before the first trial, so a bad id fails the run up front.
        var factories = plan.Models.Distinct().ToDictionary(m => m, models.Resolve, StringComparer.Ordinal);
        var planned = CountTrials(plan, tasks) - (finished?.Count ?? 0);
        var inFlight = Channel.CreateBounded<Task<TrialRecord>>(new BoundedChannelOptions(plan.Concurrency * ReorderWindowPerWorker)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var workers = new SemaphoreSlim(plan.Concurrency);
        using var scheduling = CancellationTokenSource.CreateLinkedTokenSource(stopScheduling, abort);

        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var spec in PlanTrials(plan, tasks))
                {
                    if (finished?.Contains(spec.TrialId) == true)
                    {
                        continue;
                    }
                    await workers.WaitAsync(scheduling.Token).ConfigureAwait(false);
                    var trial = StartTrial(spec, factories[spec.Model], workers, plan.Concurrency > 1, abort);
                    await inFlight.Writer.WriteAsync(trial, scheduling.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (scheduling.IsCancellationRequested)
            {
                // Scheduling stopped; trials already started still finish and are written.
            }
            finally
            {
                inFlight.Writer.Complete();
            }
        }, CancellationToken.None);

        long written = 0, errors = 0;
        var cancelled = false;
        await foreach (var trial in inFlight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            TrialRecord record;
            try
            {
                record = await trial.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
                await scheduling.CancelAsync().ConfigureAwait(false);
                continue;
            }
            await store.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
            leaderboard.Add(record);
            written++;
            if (record.Error is not null)
            {
                errors++;
            }
            progress?.Report(written);
        }
        await producer.ConfigureAwait(false);
        cancelled = (cancelled || scheduling.IsCancellationRequested) && written < planned;
        return new RunOutcome(planned, written, errors, cancelled);
    }

    private Task<TrialRecord> StartTrial(TrialSpec spec, AgentFactory factory, SemaphoreSlim workers, bool parallel, CancellationToken cancellationToken)
    {
        async Task<TrialRecord> Run()
        {
            try
            {
                return await RunTrialAsync(spec, factory, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                workers.Release();
            }
        }
        return parallel ? Task.Run(Run, CancellationToken.None) : Run();
    }

    /// <summary>Plays and scores one trial; an agent's exception ends the trial with a recorded error, not the run.</summary>
    public async Task<TrialRecord> RunTrialAsync(TrialSpec spec, AgentFactory factory, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var start = time.GetTimestamp();
        try
        {
            var agent = factory(new TrialContext(spec.TrialId, spec.Episode, spec.Epoch, spec.AgentSeed, spec.PromptVariant, spec.Naming, spec.Task));
            var transcript = await EpisodeEngine.RunAsync(spec.Episode, agent, spec.EnvironmentSeed, cancellationToken).ConfigureAwait(false);
            var scores = EpisodeScoring.Score(new ScoringInput(spec.Episode, transcript));
            return new TrialRecord(spec, transcript, scores, transcript.Usage, 0, time.GetElapsedTime(start), startedAt, time.GetUtcNow(), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return new TrialRecord(spec, null, null, default, 0, time.GetElapsedTime(start), startedAt, time.GetUtcNow(),
                new TrialError(ex.GetType().Name, ex.Message));
        }
    }
}
