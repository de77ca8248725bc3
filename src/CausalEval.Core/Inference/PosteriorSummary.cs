using System.Collections.Immutable;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Inference;

/// <summary>
/// What decisions need from a posterior: the posterior mean of every total effect, the information (bits) of an
/// experiment on each variable (the same for every nonzero value), the log evidence and the most probable DAGs.
/// Small enough to precompute and commit for a passive split (<see cref="ObserverCache"/>).
/// </summary>
public sealed record PosteriorSummary(
    ImmutableArray<string> Variables,
    ImmutableArray<double> ExpectedEffects,
    ImmutableArray<double> InformationBits,
    double LogEvidence,
    ImmutableArray<WeightedHypothesis> Top)
{
    /// <summary>How many hypotheses <see cref="Top"/> keeps.</summary>
    public const int TopCount = 5;

    public double ExpectedEffect(int cause, int effect) => ExpectedEffects[cause * Variables.Length + effect];

    public double Information(string variable, double value) => Informations.Information(variable, value);

    /// <summary>The information part alone (what explore decisions need).</summary>
    public InformationTable Informations => new(Variables, InformationBits);

    /// <summary>Posterior expectation of the target under each allowed action, and every maximiser (ties as the oracle's).</summary>
    public Solution Exploit(string target, IEnumerable<string> variables, IReadOnlyList<double> values)
    {
        var t = IndexOf(target);
        return Exploit(Variables, target, variables, values, x => ExpectedEffect(x, t));
    }

    /// <summary>The exploit expectations from the posterior mean of TE[x→target] per variable index (<paramref name="effectOn"/>).</summary>
    internal static Solution Exploit(ImmutableArray<string> names, string target, IEnumerable<string> variables,
        IReadOnlyList<double> values, Func<int, double> effectOn)
    {
        var actions = ImmutableArray.CreateBuilder<ScoredAction>();
        foreach (var variable in variables)
        {
            if (variable == target)
            {
                continue;
            }
            var effect = effectOn(InformationTable.IndexOf(names, variable));
            foreach (var value in values)
            {
                actions.Add(new ScoredAction(new Intervention(variable, value), value * effect + 0.0));
            }
        }
        var all = actions.ToImmutable();
        if (all.Length == 0)
        {
            return new Solution(target, all, []);
        }
        var best = all.Max(a => a.Expected);
        return new Solution(target, all, [.. all.Where(a => ExploitOracle.AreTied(a.Expected, best))]);
    }

    /// <summary>Every experiment with its information, and every maximiser (ties within the oracle's tolerance).</summary>
    public (ImmutableArray<ScoredExperiment> All, ImmutableArray<ScoredExperiment> Best) Experiments(
        IEnumerable<string> variables, IReadOnlyList<double> values)
        => Informations.Experiments(variables, values);

    private int IndexOf(string variable) => InformationTable.IndexOf(Variables, variable);
}

/// <summary>
/// The information (bits) of an experiment on each variable under a posterior (the same for every nonzero value): all an
/// explore decision needs, and cheaper than a full <see cref="PosteriorSummary"/> (no pass over the total effects).
/// </summary>
public sealed record InformationTable(ImmutableArray<string> Variables, ImmutableArray<double> Bits)
{
    public double Information(string variable, double value) => value == 0 ? 0 : Bits[IndexOf(Variables, variable)];

    /// <summary>Every experiment with its information, and every maximiser (ties within the oracle's tolerance).</summary>
    public (ImmutableArray<ScoredExperiment> All, ImmutableArray<ScoredExperiment> Best) Experiments(
        IEnumerable<string> variables, IReadOnlyList<double> values)
    {
        var all = variables.SelectMany(v => values.Select(value => new ScoredExperiment(new Intervention(v, value), Information(v, value))))
            .ToImmutableArray();
        if (all.Length == 0)
        {
            return (all, []);
        }
        var best = all.Max(e => e.Bits);
        return (all, [.. all.Where(e => ExploitOracle.AreTied(e.Bits, best))]);
    }

    internal static int IndexOf(ImmutableArray<string> variables, string variable)
    {
        var i = variables.IndexOf(variable);
        return i >= 0 ? i : throw new ArgumentException($"unknown variable '{variable}'", nameof(variable));
    }
}
