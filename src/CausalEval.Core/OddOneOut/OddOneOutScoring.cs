using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// The scores of an odd-one-out episode, in the fields every trial line has (DESIGN §1.3 read for this family):
/// <c>exploit_value</c> and <c>optimal_action</c> = exploit correct (0/1; a failed pick scores as a miss),
/// <c>optimal_value</c> = 1, <c>normalized</c> = (correct − 1/4)/(3/4) (random 0, optimal 1), <c>regret</c> = 1 − correct,
/// <c>explore_coverage</c> = distinct dimensions transformed ÷ 3, <c>informative_experiments</c> = share of experiment trials
/// whose outcome was not yet certain (a not-yet-excluded dimension tested while the concept was unknown), and the ideal
/// observer's decomposition: <c>evidence_value</c> = chance the Bayes exploit pick is right given the agent's outcomes
/// (mean over tied picks), <c>exploration_regret</c> = 1 − that, <c>inference_regret</c> = that − correct, and the
/// experiments' bits (<c>explore_information</c>, <c>best_information</c>, <c>explore_efficiency</c>).
/// </summary>
public static class OddOneOutScoring
{
    /// <summary>Chance level: one object in four is right.</summary>
    public const double Chance = 0.25;

    public static double Normalize(double correct) => (correct - Chance) / (1 - Chance);

    public static Scores Score(OddOneOutEpisode episode, EpisodeTranscript transcript)
    {
        var exploit = transcript.Exploit;
        var correct = exploit is { Status: StepStatus.Valid, Outcome.Correct: true } ? 1 : 0;
        int invalid = 0, unreadable = 0;
        foreach (var step in transcript.Steps)
        {
            invalid += step.Status == StepStatus.Invalid ? 1 : 0;
            unreadable += step.Status == StepStatus.ParseFailure ? 1 : 0;
        }

        var posterior = ConceptPosterior.Uniform;
        var tested = new HashSet<Dimension>();
        int informative = 0, trials = 0;
        double information = 0, best = 0;
        foreach (var (transform, pick) in OddOneOutEngine.Experiments(transcript.Steps))
        {
            if (trials >= episode.Experiments.Length)
            {
                break;
            }
            var trial = episode.Experiments[trials++];
            if (transform is { Status: StepStatus.Valid, Decision.Move.Dimension: { } dimension })
            {
                tested.Add(dimension);
            }
            best += posterior.BestInformation(trial);
            if (pick is { Status: StepStatus.Valid, Decision.Move: { } move, Outcome: { Correct: { } outcome } shown })
            {
                var index = OddObject.IndexOf(shown.Objects, move.Object);
                var bits = posterior.Information(shown.Objects, index);
                information += bits;
                informative += bits > 0 ? 1 : 0;
                posterior = posterior.Update(shown.Objects, index, outcome);
            }
        }

        var bayes = posterior.BayesPicks(episode.ExploitObjects);
        var evidenceValue = bayes.Average(i => episode.ExploitObjects[i].Name == episode.Answer ? 1.0 : 0.0);
        return new Scores
        {
            ExploitValue = exploit?.Status == StepStatus.Valid ? correct : null,
            OptimalValue = 1,
            Normalized = Normalize(correct),
            OptimalAction = correct,
            Regret = 1 - correct,
            ExploreCoverage = (double)tested.Count / Dimensions.All.Length,
            InformativeExperiments = episode.Experiments.Length > 0 ? (double)informative / episode.Experiments.Length : null,
            InvalidActions = invalid,
            ParseFailures = unreadable,
            EvidenceValue = evidenceValue,
            ExplorationRegret = 1 - evidenceValue,
            InferenceRegret = evidenceValue - correct,
            ExploreInformation = information,
            BestInformation = best,
            ExploreEfficiency = best > 0 ? information / best : null,
        };
    }
}
