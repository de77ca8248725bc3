using System.Text.Json.Serialization;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Oracle;

/// <summary><c>causaleval solve</c>'s output (DESIGN §2.1): target, total effects, every action's expected value, the optimal ones.</summary>
public static class SolutionJson
{
    /// <summary>The oracle's answer for <paramref name="world"/> as indented JSON.</summary>
    public static string ToJson(World world, Solution solution)
    {
        var effects = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        foreach (var from in world.Observable)
        {
            var row = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var to in world.Observable)
            {
                if (to != from)
                {
                    row.Add(to, world.TotalEffect(from, to) + 0.0); // + 0.0: no "-0" in the file
                }
            }
            effects.Add(from, row);
        }
        return JsonInput.ToIndented(new SolutionOutput(solution.Target, effects, Actions(solution.Actions), Actions(solution.Optimal)),
            CoreJsonContext.Default.SolutionOutput);
    }

    internal static List<ExpectedAction> Actions(IEnumerable<ScoredAction> actions)
        => [.. actions.Select(a => new ExpectedAction(a.Action.Variable, a.Action.Value, a.Expected + 0.0))];
}

/// <summary><c>solve</c>'s output as written.</summary>
internal sealed record SolutionOutput(
    string Target,
    Dictionary<string, Dictionary<string, double>> TotalEffects,
    IReadOnlyList<ExpectedAction> Actions,
    IReadOnlyList<ExpectedAction> Optimal);

/// <summary>An intervention with its expected value of the target (<c>solve</c>, <c>infer</c>).</summary>
internal sealed record ExpectedAction(string Variable, double Value, double Expected);
