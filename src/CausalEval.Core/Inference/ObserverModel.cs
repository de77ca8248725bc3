using System.Collections.Immutable;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.Inference;

/// <summary>
/// The world family an ideal observer reasons over (DESIGN §1.6): the signed-DAG generator on <see cref="Variables"/>
/// with edge probability <see cref="EdgeProbability"/>, N(0, σ²) noise on every variable and, with
/// <see cref="HiddenConfounder"/>, a hidden root U whose weights are drawn the same way (at least two nonzero).
/// </summary>
public sealed record ObserverModel(ImmutableArray<string> Variables, bool HiddenConfounder, double EdgeProbability, double NoiseSd)
{
    public const double DefaultEdgeProbability = 2.0 / 3.0;
    public const double DefaultNoiseSd = 0.1;

    /// <summary>
    /// Hypotheses the generator can produce: signed DAGs with prior mass (all of them when 0 &lt; p &lt; 1), times the
    /// root's weight vectors with a hidden confounder.
    /// </summary>
    public long Hypotheses
    {
        get
        {
            var family = DagFamily.For(Variables.Length);
            long dags = family.Count;
            if (EdgeProbability is <= 0 or >= 1)
            {
                var prior = family.LogPriorTable(EdgeProbability);
                dags = Enumerable.Range(0, family.Count).Count(d => !double.IsNegativeInfinity(prior[family.PriorIndex(d)]));
            }
            if (!HiddenConfounder)
            {
                return dags;
            }
            // With p = 1 every root weight is nonzero: 2^n vectors.
            var roots = RootWeights.RootEdgeProbability(EdgeProbability) >= 1 ? 1L << Variables.Length : RootWeights.Count(Variables.Length);
            return dags * roots;
        }
    }

    /// <summary>Value equality, names included (an <see cref="ImmutableArray{T}"/> alone compares by reference).</summary>
    public bool Equals(ObserverModel? other)
        => other is not null && Variables.SequenceEqual(other.Variables) && HiddenConfounder == other.HiddenConfounder
            && EdgeProbability.Equals(other.EdgeProbability) && NoiseSd.Equals(other.NoiseSd);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var variable in Variables)
        {
            hash.Add(variable, StringComparer.Ordinal);
        }
        hash.Add(HiddenConfounder);
        hash.Add(EdgeProbability);
        hash.Add(NoiseSd);
        return hash.ToHashCode();
    }

    /// <summary>Returns (field, problem) for a model the engine cannot run, or null.</summary>
    public (string Field, string Problem)? Validate()
    {
        if (Variables.Length < Worlds.SignedDagOptions.MinVariables || Variables.Length > Worlds.SignedDagOptions.MaxVariables)
        {
            return ("variables", $"the family has {Worlds.SignedDagOptions.MinVariables} to {Worlds.SignedDagOptions.MaxVariables} variables, got {Variables.Length}");
        }
        if (Variables.Length > DagFamily.MaxVariables)
        {
            return ("variables", $"exact inference enumerates the family and is implemented for up to {DagFamily.MaxVariables} variables, got {Variables.Length}");
        }
        if (!double.IsFinite(EdgeProbability) || EdgeProbability is < 0 or > 1)
        {
            return ("edge_probability", $"must be in [0, 1], got {EdgeProbability}");
        }
        if (!double.IsFinite(NoiseSd) || NoiseSd <= 0)
        {
            return ("noise_sd", $"must be a finite number > 0, got {NoiseSd}");
        }
        return null;
    }

    /// <summary>The family of an episode's generator (the observables, the edge probability, σ, the hidden root).</summary>
    public static ObserverModel For(Tasks.TaskDefinition task, EpisodeBrief brief)
        => new(brief.Variables, task.Generator.HiddenConfounder, task.Generator.EdgeProbability, task.Generator.NoiseSd);
}
