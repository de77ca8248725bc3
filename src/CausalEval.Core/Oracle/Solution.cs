using System.Collections.Immutable;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Oracle;

/// <summary>An exploit action with its exact expected target value under the true world.</summary>
public sealed record ScoredAction(Intervention Action, double Expected);

/// <summary>
/// The exact answer to "make the target as large as possible": every allowed action's expected value
/// and every maximiser (ties are all listed).
/// </summary>
public sealed record Solution(string Target, ImmutableArray<ScoredAction> Actions, ImmutableArray<ScoredAction> Optimal)
{
    public double OptimalValue => Optimal.Length > 0 ? Optimal[0].Expected : double.NaN;

    public bool IsOptimal(Intervention action)
    {
        foreach (var best in Optimal)
        {
            if (best.Action.Variable == action.Variable && best.Action.Value.Equals(action.Value))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The DAG-optimal exploit strategy, computed exactly from the world.</summary>
public static class ExploitOracle
{
    /// <summary>Values closer than this (relative to their size) are a tie.</summary>
    public const double TieTolerance = 1e-9;

    /// <param name="allowedVariables">Variables the goal lets the agent set; null means every observable variable.</param>
    public static Solution Solve(World world, string target, IReadOnlyList<string>? allowedVariables, IReadOnlyList<double> allowedValues)
    {
        var t = world.IndexOf(target);
        if (t < 0 || !world.IsObservable(target))
        {
            throw new ArgumentException($"target '{target}' is not an observable variable", nameof(target));
        }
        var actions = ImmutableArray.CreateBuilder<ScoredAction>();
        foreach (var variable in allowedVariables ?? world.Observable)
        {
            if (variable == target || !world.IsObservable(variable))
            {
                continue;
            }
            var effect = world.TotalEffect(world.IndexOf(variable), t);
            foreach (var value in allowedValues)
            {
                actions.Add(new ScoredAction(new Intervention(variable, value), value * effect));
            }
        }
        var all = actions.ToImmutable();
        if (all.Length == 0)
        {
            return new Solution(target, all, []);
        }
        var best = all.Max(a => a.Expected);
        var optimal = all.Where(a => AreTied(a.Expected, best)).ToImmutableArray();
        return new Solution(target, all, optimal);
    }

    public static bool AreTied(double a, double b)
        => Math.Abs(a - b) <= TieTolerance * Math.Max(1.0, Math.Max(Math.Abs(a), Math.Abs(b)));
}
