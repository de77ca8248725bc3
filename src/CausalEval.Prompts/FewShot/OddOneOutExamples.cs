using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Randomness;
using CausalEval.Core.Tasks;

namespace CausalEval.Prompts.FewShot;

/// <summary>An odd-one-out train episode as the expert played it: the passive transcript a few-shot example shows.</summary>
internal sealed record OddOneOutExample(OddOneOutEpisode Episode, EpisodeTranscript Transcript);

/// <summary>
/// The few-shot examples of an odd-one-out episode: <see cref="FewShotSelector.Count"/> episodes of the task's <b>train</b>
/// split (never validation or test; in a confounded task their exploit trials are confounded, in a held-out-dimension task
/// their concept is never the held-out one), drawn with a seed from (task, version, episode) so every model, variant and
/// naming scheme sees the same examples, played by <c>builtin/expert</c> and shared by all trials of a run.
/// </summary>
internal sealed class OddOneOutExamples
{
    private readonly ConcurrentDictionary<(string, int, string), Lazy<Task<ImmutableArray<OddOneOutExample>>>> _cache = new();

    public Task<ImmutableArray<OddOneOutExample>> ForAsync(TaskDefinition task, OddOneOutEpisode episode) =>
        _cache.GetOrAdd((task.Id, task.Version, episode.Id), _ => new(() => PlayAsync(task, episode))).Value;

    /// <summary>The train episodes shown with <paramref name="episode"/>: distinct indexes, never the episode itself.</summary>
    public static ImmutableArray<OddOneOutEpisode> Select(TaskDefinition task, OddOneOutEpisode episode, int count = FewShotSelector.Count)
    {
        var random = new SeededRandom(StableId.Seed("few-shot", task.Id, task.Version.ToString(CultureInfo.InvariantCulture), episode.Id));
        var own = OddOneOutGenerator.Key(episode);
        var tried = new HashSet<int>();
        var chosen = ImmutableArray.CreateBuilder<OddOneOutEpisode>(count);
        while (chosen.Count < count && tried.Count < task.Train.Episodes)
        {
            var index = random.NextInt(task.Train.Episodes);
            if (!tried.Add(index))
            {
                continue;
            }
            var candidate = OddOneOutGenerator.GenerateEpisode(task, TaskDefinition.TrainSplit, index);
            if (OddOneOutGenerator.Key(candidate) != own)
            {
                chosen.Add(candidate);
            }
        }
        return chosen.Count == count
            ? chosen.MoveToImmutable()
            : throw new InvalidOperationException($"task {task.Id}: found only {chosen.Count} train episodes for few-shot examples");
    }

    private static async Task<ImmutableArray<OddOneOutExample>> PlayAsync(TaskDefinition task, OddOneOutEpisode episode)
    {
        var examples = ImmutableArray.CreateBuilder<OddOneOutExample>();
        foreach (var train in Select(task, episode))
        {
            var expert = BuiltinAgents.All["expert"].Create(new TrialContext($"few-shot/{task.Id}/{train.Id}", train, 1, train.Seed, null, null, task));
            examples.Add(new OddOneOutExample(train, await OddOneOutEngine.RunAsync(train, expert).ConfigureAwait(false)));
        }
        return examples.ToImmutable();
    }
}
