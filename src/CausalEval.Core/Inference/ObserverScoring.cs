using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.Inference;

/// <summary>The information (bits) of the experiment an agent chose at one explore step, and of the best one allowed.</summary>
public sealed record StepInformation(int Step, double Chosen, double Best);

/// <summary>
/// The ideal observer's view of one played episode (DESIGN §1.6): the information of each explore step, the Bayes
/// exploit given exactly the evidence the agent saw, and its true value.
/// </summary>
public sealed record ObserverAnalysis(
    ImmutableArray<StepInformation> Steps,
    ImmutableArray<Oracle.ScoredAction> BayesExploit,
    double EvidenceValue);

/// <summary>Computes <see cref="ObserverAnalysis"/> for a trial; shares posteriors through <see cref="ObserverCache"/>.</summary>
public static class ObserverScoring
{
    private static readonly ConditionalWeakTable<EpisodeTranscript, ObserverAnalysis?> Analyses = [];

    /// <summary>The family the agent reasons over: the task's generator, or the episode's own shape without a task.</summary>
    public static ObserverModel? ModelFor(Episode episode, TaskDefinition? task)
    {
        var model = task is not null
            ? ObserverModel.For(task, episode.Brief)
            : new ObserverModel(episode.Brief.Variables, episode.World.Hidden.Length > 0, ObserverModel.DefaultEdgeProbability, episode.World.NoiseSd);
        return model.Validate() is null ? model : null;
    }

    /// <summary>The samples an agent had seen before step <paramref name="before"/>: passive evidence, then its valid experiments.</summary>
    public static ImmutableArray<EvidenceSample> EvidenceBefore(EpisodeBrief brief, IReadOnlyList<StepRecord> history, int before)
    {
        var samples = ImmutableArray.CreateBuilder<EvidenceSample>();
        if (brief.Evidence is { } evidence)
        {
            samples.AddRange(evidence.Samples);
        }
        for (var i = 0; i < before && i < history.Count; i++)
        {
            if (history[i] is { Phase: Phase.Explore, Status: StepStatus.Valid, Action: { } action } step)
            {
                samples.Add(new EvidenceSample(action, step.Observation));
            }
        }
        return samples.ToImmutable();
    }

    /// <summary>How many samples an episode shows at once (its passive evidence), for <see cref="ObserverCache.Posterior"/>.</summary>
    public static int Shown(EpisodeBrief brief) => brief.Evidence?.Samples.Length ?? 0;

    /// <summary>The analysis of a played episode; null when the family is beyond exact inference (more than 5 variables).</summary>
    public static ObserverAnalysis? Analyse(Episode episode, EpisodeTranscript transcript, TaskDefinition? task)
        => Analyses.GetValue(transcript, t => Compute(episode, t, task));

    private static ObserverAnalysis? Compute(Episode episode, EpisodeTranscript transcript, TaskDefinition? task)
    {
        if (ModelFor(episode, task) is not { } model)
        {
            return null;
        }
        var brief = episode.Brief;
        var values = episode.Options.AllowedValues;
        var steps = ImmutableArray.CreateBuilder<StepInformation>();
        foreach (var step in transcript.Steps.Where(s => s.Phase == Phase.Explore))
        {
            var information = ObserverCache.Information(model, EvidenceBefore(brief, transcript.Steps, step.Index), Shown(brief));
            var best = information.Experiments(episode.ExploreVariables, values).Best[0].Bits;
            var chosen = step is { Status: StepStatus.Valid, Action: { } action } ? information.Information(action.Variable, action.Value) : 0;
            steps.Add(new StepInformation(step.Index, chosen, best));
        }
        // The exploit expectations alone: the target's column of total effects, not the whole summary.
        var bayes = ObserverCache.Exploit(model, EvidenceBefore(brief, transcript.Steps, transcript.Steps.Length), Shown(brief),
            episode.Target, episode.ExploitVariables, values).Optimal;
        var value = bayes.Average(a => episode.World.ExpectedUnder(a.Action, episode.Target)) + 0.0;
        return new ObserverAnalysis(steps.ToImmutable(), bayes, value);
    }
}

/// <summary>
/// The regret decomposition and information scores: <c>evidence_value</c>, <c>exploration_regret</c>,
/// <c>inference_regret</c> and, on explore tasks, the information chosen and available and <c>explore_efficiency</c>.
/// </summary>
public sealed class ObserverScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        if (ObserverScoring.Analyse(input.Episode, input.Transcript, input.Task) is not { } analysis)
        {
            return scores;
        }
        var optimal = input.Episode.Solution.OptimalValue;
        var explored = analysis.Steps.Length > 0;
        var chosen = analysis.Steps.Sum(s => s.Chosen);
        var best = analysis.Steps.Sum(s => s.Best);
        return scores with
        {
            EvidenceValue = analysis.EvidenceValue,
            ExplorationRegret = optimal - analysis.EvidenceValue + 0.0,
            InferenceRegret = scores.ExploitValue is { } value ? analysis.EvidenceValue - value + 0.0 : null,
            ExploreInformation = explored ? chosen : null,
            BestInformation = explored ? best : null,
            ExploreEfficiency = explored && best > 0 ? chosen / best : null,
        };
    }
}
