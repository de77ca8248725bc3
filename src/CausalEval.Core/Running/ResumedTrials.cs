using CausalEval.Core.Episodes;
using CausalEval.Core.Results;

namespace CausalEval.Core.Running;

/// <summary>
/// What an interrupted run's <c>trials.jsonl</c> already holds, checked line by line against the run's plan: every
/// line must be a trial of the plan (its <c>trial_id</c> one the plan makes) and agree with that trial on task,
/// episode, model, prompt variant, naming and epoch — otherwise it is bad input naming <c>file:line</c> (a line from
/// another run, an edited id). Exactly one line per trial is kept (a duplicate is removed, a finished one preferred
/// over a failed one); with <c>retryErrors</c>, lines of trials that ended in a retryable error
/// (<see cref="TrialError.IsRetryable"/>) are removed too, so the trials are played again. The counts, usage and cost
/// come from the lines kept, never from <c>run.json</c>. When lines are removed the file is rewritten atomically.
/// </summary>
public sealed record ResumedTrials(
    IReadOnlySet<string> Finished,
    IReadOnlyList<TrialSummary> Kept,
    long Errors,
    Usage Usage,
    double SpentUsd,
    int DuplicatesRemoved,
    int ErrorsToReplay)
{
    public static ResumedTrials Load(string trialsPath, RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, bool retryErrors)
    {
        if (!File.Exists(trialsPath))
        {
            return new ResumedTrials(new HashSet<string>(StringComparer.Ordinal), [], 0, default, 0, 0, 0);
        }
        var specs = new Dictionary<string, TrialSpec>(StringComparer.Ordinal);
        foreach (var spec in Runner.PlanTrials(plan, tasks))
        {
            specs[spec.TrialId] = spec;
        }
        // The line kept for each trial, by trial id.
        var chosen = new Dictionary<string, (long Line, TrialSummary Trial)>(StringComparer.Ordinal);
        var lines = 0L;
        var duplicates = 0;
        var replayed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in TrialLog.ReadLines(trialsPath))
        {
            lines++;
            var trial = line.Summary;
            Check(trialsPath, line.LineNumber, trial, specs);
            if (retryErrors && trial.Failed && TrialError.IsRetryable(trial.ErrorKind))
            {
                replayed.Add(trial.TrialId);
                continue;
            }
            if (chosen.TryGetValue(trial.TrialId, out var earlier))
            {
                duplicates++;
                if (!(earlier.Trial.Failed && !trial.Failed))
                {
                    continue;
                }
            }
            chosen[trial.TrialId] = (line.LineNumber, trial);
        }
        var kept = chosen.Values.OrderBy(c => c.Line).ToList();
        if (kept.Count < lines)
        {
            Rewrite(trialsPath, kept.Select(k => k.Line).ToHashSet());
        }
        var finished = new HashSet<string>(chosen.Keys, StringComparer.Ordinal);
        var usage = default(Usage);
        var spent = 0.0;
        long errors = 0;
        foreach (var (_, trial) in kept)
        {
            usage += trial.Usage;
            spent += trial.Cost;
            errors += trial.Failed ? 1 : 0;
        }
        // A trial replayed for its error that also has a finished line is not replayed after all.
        var toReplay = replayed.Count(id => !finished.Contains(id));
        return new ResumedTrials(finished, [.. kept.Select(k => k.Trial)], errors, usage, spent, duplicates, toReplay);
    }

    private static void Check(string path, long lineNumber, TrialSummary trial, Dictionary<string, TrialSpec> specs)
    {
        var where = $"{path}:{lineNumber}";
        if (!specs.TryGetValue(trial.TrialId, out var spec))
        {
            throw new InputException(where, "trial_id",
                $"{trial.TrialId} is not a trial of this run's plan (a line from another run, or an edited id); remove the line or resume the run it belongs to");
        }
        static string Show(object? value) => value is null ? "null" : $"\"{value}\"";
        void Same<T>(string field, T found, T expected)
        {
            if (!EqualityComparer<T>.Default.Equals(found, expected))
            {
                throw new InputException(where, field,
                    $"{Show(found)} does not match trial {trial.TrialId} of the plan ({Show(expected)}): the line was edited or comes from another run");
            }
        }
        Same("task", trial.Task, spec.TaskId);
        Same("episode", trial.Episode, spec.Episode.Id);
        Same("model", trial.Model, spec.DisplayModel);
        Same("prompt_variant", trial.PromptVariant, spec.PromptVariant);
        Same("naming", trial.Naming, spec.Naming);
        Same("epoch", trial.Epoch, spec.Epoch);
    }

    /// <summary>Keeps only the lines numbered in <paramref name="keep"/>: written to a temporary file, then moved over the original.</summary>
    private static void Rewrite(string path, HashSet<long> keep)
    {
        var temp = path + ".tmp";
        using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            foreach (var line in TrialLog.ReadLines(path))
            {
                if (keep.Contains(line.LineNumber))
                {
                    output.Write(line.Json.Span);
                    output.WriteByte((byte)'\n');
                }
            }
            output.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
