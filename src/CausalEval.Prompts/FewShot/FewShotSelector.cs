using System.Collections.Immutable;
using System.Globalization;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Tasks;

namespace CausalEval.Prompts.FewShot;

/// <summary>
/// Picks the few-shot examples for an episode: <see cref="Count"/> episodes of the task's <b>train</b> split, drawn with a
/// seed from (task, version, episode), so every model, prompt variant and naming scheme sees the same examples for an
/// episode. It reads train episodes only (through <see cref="TrainEpisodeSource"/>, by index), never the test split; for a
/// held-out-link task it skips any world that has the held-out link (the generator already keeps it out of train), and it
/// never picks a world identical to the episode's own.
/// </summary>
internal static class FewShotSelector
{
    public const int Count = 3;

    private const int MaxDraws = 1000;

    /// <summary>Episode <c>index</c> of a task's train split.</summary>
    public delegate Episode TrainEpisodeSource(TaskDefinition task, int index);

    public static readonly TrainEpisodeSource Generated = (task, index) => DatasetGenerator.GenerateEpisode(task, "train", index);

    public static ImmutableArray<Episode> Select(TaskDefinition task, Episode episode, TrainEpisodeSource? source = null, int count = Count)
    {
        source ??= Generated;
        var trainSize = task.Train.Episodes;
        var random = new SeededRandom(StableId.Seed("few-shot", task.Id, task.Version.ToString(CultureInfo.InvariantCulture), episode.Id));
        var tried = new HashSet<int>();
        var chosen = ImmutableArray.CreateBuilder<Episode>(count);
        for (var draw = 0; draw < MaxDraws && chosen.Count < count && tried.Count < trainSize; draw++)
        {
            var index = random.NextInt(trainSize);
            if (!tried.Add(index))
            {
                continue;
            }
            var candidate = source(task, index);
            if (task.HeldoutLink is { } link && candidate.World.IndexOf(link.From) >= 0 && candidate.World.IndexOf(link.To) >= 0
                && candidate.World.HasEdge(link.From, link.To))
            {
                continue;
            }
            if (SameWorld(candidate, episode))
            {
                continue;
            }
            chosen.Add(candidate);
        }
        return chosen.Count == count
            ? chosen.MoveToImmutable()
            : throw new InvalidOperationException($"task {task.Id}: found only {chosen.Count} usable train episodes for few-shot examples");
    }

    private static bool SameWorld(Episode a, Episode b) =>
        a.World.Variables.SequenceEqual(b.World.Variables)
        && a.World.Edges.Length == b.World.Edges.Length
        && a.World.Edges.All(e => b.World.IndexOf(e.From) >= 0 && b.World.IndexOf(e.To) >= 0 && b.World.Weight(b.World.IndexOf(e.From), b.World.IndexOf(e.To)) == e.Weight);
}
