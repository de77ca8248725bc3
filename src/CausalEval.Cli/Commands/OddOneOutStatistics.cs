using System.Globalization;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;

namespace CausalEval.Cli.Commands;

/// <summary>Facts about an odd-one-out split that users check: how often each dimension is the concept, how many exploit trials are confounded, and what the shortcut scores.</summary>
internal static class OddOneOutStatistics
{
    public static IReadOnlyList<(string Name, string Value)> Of(IReadOnlyList<OddOneOutEpisode> episodes)
    {
        if (episodes.Count == 0)
        {
            return [];
        }
        var rows = new List<(string, string)>();
        foreach (var d in Dimensions.All)
        {
            rows.Add(($"share with concept {d.Name()}", Format(episodes.Count(e => e.Concept == d) / (double)episodes.Count)));
        }
        rows.Add(("share of confounded exploit trials", Format(episodes.Count(e => e.Confounded) / (double)episodes.Count)));
        rows.Add(("exploit accuracy of builtin/shortcut (unique along the most dimensions)", Format(Accuracy(episodes, "shortcut"))));
        rows.Add(("exploit accuracy of builtin/expert (each dimension tested once)", Format(Accuracy(episodes, "expert"))));
        return rows;
    }

    private static double Accuracy(IReadOnlyList<OddOneOutEpisode> episodes, string agent)
    {
        var factory = BuiltinAgents.All[agent].Create;
        var correct = 0;
        foreach (var episode in episodes)
        {
            var transcript = OddOneOutEngine.RunAsync(episode, factory(new TrialContext("stats", episode, 1, episode.Seed, null)))
                .AsTask().GetAwaiter().GetResult();
            correct += transcript.Exploit is { Status: StepStatus.Valid, Outcome.Correct: true } ? 1 : 0;
        }
        return (double)correct / episodes.Count;
    }

    private static string Format(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
