using System.Collections.Immutable;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// The ideal observer of the odd-one-out family: the exact posterior over the concept given the outcomes seen. The prior
/// is uniform over the three dimensions (what an agent is told: the concept is one of them); a pick's outcome is
/// deterministic — correct exactly when the picked object is unique along the concept — so each outcome keeps the
/// concepts that agree with it. Invalid steps carry no information.
/// </summary>
public sealed record ConceptPosterior(ImmutableArray<double> Probabilities)
{
    public static ConceptPosterior Uniform { get; } = new([.. Dimensions.All.Select(_ => 1.0 / Dimensions.All.Length)]);

    public double this[Dimension dimension] => Probabilities[(int)dimension];

    /// <summary>Concepts still possible (probability above 0).</summary>
    public int Remaining => Probabilities.Count(p => p > 0);

    /// <summary>The posterior after a pick of object <paramref name="picked"/> among <paramref name="objects"/> was answered <paramref name="correct"/>.</summary>
    public ConceptPosterior Update(IReadOnlyList<OddObject> objects, int picked, bool correct)
    {
        var next = new double[Probabilities.Length];
        var total = 0.0;
        foreach (var d in Dimensions.All)
        {
            var likelihood = OddObject.IsUnique(objects, picked, d) == correct ? 1.0 : 0.0;
            next[(int)d] = Probabilities[(int)d] * likelihood;
            total += next[(int)d];
        }
        if (total <= 0)
        {
            throw new InvalidOperationException("no concept explains the outcomes (the environment contradicted itself)");
        }
        for (var i = 0; i < next.Length; i++)
        {
            next[i] /= total;
        }
        return new ConceptPosterior([.. next]);
    }

    /// <summary>The posterior after the valid experiment picks of <paramref name="history"/> (the exploit pick is not evidence).</summary>
    public static ConceptPosterior After(IEnumerable<StepRecord> history)
    {
        var posterior = Uniform;
        foreach (var step in history)
        {
            if (step is { Phase: Phase.Explore, Status: StepStatus.Valid, Decision.Move: { Kind: MoveKind.Pick } move, Outcome: { Correct: { } correct } outcome })
            {
                posterior = posterior.Update(outcome.Objects, OddObject.IndexOf(outcome.Objects, move.Object), correct);
            }
        }
        return posterior;
    }

    /// <summary>Probability that picking each object of <paramref name="objects"/> is correct.</summary>
    public ImmutableArray<double> PickValues(IReadOnlyList<OddObject> objects)
        => [.. Enumerable.Range(0, objects.Count).Select(i => Dimensions.All.Where(d => OddObject.IsUnique(objects, i, d)).Sum(d => this[d]))];

    /// <summary>The Bayes picks: every object with the highest probability of being correct.</summary>
    public ImmutableArray<int> BayesPicks(IReadOnlyList<OddObject> objects)
    {
        var values = PickValues(objects);
        var best = values.Max();
        return [.. Enumerable.Range(0, values.Length).Where(i => values[i] >= best - 1e-12)];
    }

    /// <summary>Bits of information a pick of <paramref name="picked"/> among <paramref name="objects"/> gives: the entropy of its outcome.</summary>
    public double Information(IReadOnlyList<OddObject> objects, int picked)
    {
        var p = PickValues(objects)[picked];
        return BinaryEntropy(p);
    }

    /// <summary>The most bits any experiment of <paramref name="trial"/> (a transform, then a pick) can give.</summary>
    public double BestInformation(ExperimentTrial trial)
    {
        var best = 0.0;
        for (var target = 0; target < trial.Objects.Length; target++)
        {
            foreach (var d in Dimensions.All)
            {
                var changed = trial.Objects.SetItem(target, trial.Objects[target].With(d, trial.TransformValue(d)));
                for (var pick = 0; pick < changed.Length; pick++)
                {
                    best = Math.Max(best, Information(changed, pick));
                }
            }
        }
        return best;
    }

    private static double BinaryEntropy(double p)
    {
        if (p <= 1e-12 || p >= 1 - 1e-12)
        {
            return 0;
        }
        return -(p * Math.Log2(p) + (1 - p) * Math.Log2(1 - p));
    }
}
