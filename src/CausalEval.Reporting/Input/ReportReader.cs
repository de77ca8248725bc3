using CausalEval.Core;
using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Input;

/// <summary>Streams every run's <c>trials.jsonl</c> once into per-episode aggregates and the transcript sample.</summary>
internal static class ReportReader
{
    public static (ReportData Data, TranscriptSampler Transcripts) Read(RunSet runs)
    {
        var data = new ReportData(runs);
        var sampler = new TranscriptSampler(runs.Tasks.Count);
        var seen = new TrialIdSet();
        foreach (var run in runs.Runs)
        {
            var tasks = run.Manifest.Tasks.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            var duplicates = 0L;
            void Torn(long line, int bytes) => data.Warnings.Add(
                $"{run.TrialsPath}:{line}: ignored an incomplete last line ({bytes} bytes): the run was interrupted mid-write; `causaleval run --resume` repairs it");
            foreach (var line in TrialLog.ReadLines(run.TrialsPath, Torn))
            {
                var trial = line.Summary;
                if (!tasks.Contains(trial.Task))
                {
                    throw new InputException($"{run.TrialsPath}:{line.LineNumber}", "task",
                        $"\"{trial.Task}\" is not among the tasks of {Path.Combine(run.Directory, RunManifest.FileName)}");
                }
                if (!seen.Add(trial.TrialId))
                {
                    // The same trial (same id: same task, episode, model, variant, epoch and run seed) in two runs counts once.
                    duplicates++;
                    data.CountDuplicate();
                    continue;
                }
                var entryKey = new EntryKey(trial.Model, trial.PromptVariant, trial.Naming);
                var task = data.TaskIndex(trial.Task);
                var episode = data.EpisodeIndex(task, trial.Episode);
                var entry = data.EntryIndex(entryKey);
                data.Add(trial, run.Index, task, episode, entry);
                sampler.Offer(trial.Task, trial.Episode, entryKey, trial.Epoch, run.Index, line.Json.Span);
            }
            if (run.Manifest.Status != RunStatus.Finished)
            {
                data.Warnings.Add($"run {run.Manifest.RunId} has status \"{run.Manifest.Status.Name()}\" ({run.Manifest.TrialsWritten} of {run.Manifest.TrialsPlanned} planned trials written, {run.Manifest.TrialErrors} ended in an error): the report covers the trials in its trials.jsonl");
            }
            if (duplicates > 0)
            {
                data.Warnings.Add($"{run.TrialsPath}: {duplicates} trials repeat trial ids already read from an earlier run folder; each counts once");
            }
        }
        data.Warnings.AddRange(runs.MissingShards());
        data.Seal();
        return (data, sampler);
    }
}
