using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;

namespace CausalEval.Prompts.FewShot;

/// <summary>A train episode as the expert played it: the passive transcript a few-shot example shows.</summary>
internal sealed record ExpertExample(Episode Episode, EpisodeTranscript Transcript);

/// <summary>
/// Plays the selected train episodes with <c>builtin/expert</c> (environment noise from each train episode's own seed) and
/// keeps the transcripts, shared by all trials of a run.
/// </summary>
internal sealed class ExpertExamples(FewShotSelector.TrainEpisodeSource? source = null)
{
    private readonly ConcurrentDictionary<(string, int, string), Lazy<Task<ImmutableArray<ExpertExample>>>> _cache = new();

    public Task<ImmutableArray<ExpertExample>> ForAsync(TaskDefinition task, Episode episode) =>
        _cache.GetOrAdd((task.Id, task.Version, episode.Id), _ => new Lazy<Task<ImmutableArray<ExpertExample>>>(() => PlayAsync(task, episode))).Value;

    private async Task<ImmutableArray<ExpertExample>> PlayAsync(TaskDefinition task, Episode episode)
    {
        var examples = ImmutableArray.CreateBuilder<ExpertExample>();
        foreach (var train in FewShotSelector.Select(task, episode, source))
        {
            var expert = BuiltinAgents.All["expert"].Create(
                new TrialContext($"few-shot/{task.Id}/{train.Id}", train, 1, train.Seed, null, null, task));
            var transcript = await EpisodeEngine.RunAsync(train, expert, train.Seed).ConfigureAwait(false);
            examples.Add(new ExpertExample(train, transcript));
        }
        return examples.ToImmutable();
    }

    /// <summary>Estimated effect of each exploit variable on the target from what the expert saw (the expert's own estimator).</summary>
    public static ImmutableArray<(string Variable, double Effect)> Estimates(ExpertExample example, out bool fromInterventions)
    {
        var brief = example.Episode.Brief;
        var target = brief.IndexOf(example.Episode.Target);
        var rows = new List<(string? Do, double Value, ImmutableArray<double> Values)>();
        foreach (var sample in brief.Evidence?.Samples ?? [])
        {
            rows.Add((sample.Intervention?.Variable, sample.Intervention?.Value ?? 0, sample.Values));
        }
        foreach (var step in example.Transcript.Steps)
        {
            if (step.Phase == Phase.Explore && step.Status == StepStatus.Valid && step.Action is { } action)
            {
                rows.Add((action.Variable, action.Value, step.Observation));
            }
        }
        fromInterventions = rows.Any(r => r.Do is not null);
        var estimates = ImmutableArray.CreateBuilder<(string, double)>();
        foreach (var variable in example.Episode.ExploitVariables)
        {
            var cause = brief.IndexOf(variable);
            var interventions = rows.Where(r => r.Do == variable && r.Value != 0).ToList();
            var effect = interventions.Count > 0
                ? interventions.Average(r => r.Values[target] / r.Value)
                : Slope(rows.Select(r => (r.Values[cause], r.Values[target])).ToList());
            estimates.Add((variable, effect));
        }
        return estimates.ToImmutable();
    }

    private static double Slope(List<(double X, double Y)> points)
    {
        if (points.Count < 2)
        {
            return 0;
        }
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx > 1e-12 ? points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx : 0;
    }

    internal static string Number(double value) => (Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0).ToString("0.00", CultureInfo.InvariantCulture);

    internal static string Signed(double value)
    {
        var rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0;
        return (rounded > 0 ? "+" : "") + rounded.ToString("0.00", CultureInfo.InvariantCulture);
    }

    internal static string Setting(double value) => (value + 0.0).ToString("0.###", CultureInfo.InvariantCulture);
}
