using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using CausalEval.Core.Randomness;
using CausalEval.Core.Tasks;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// The odd-one-out rules of a task (<c>task.json</c>'s <c>odd_one_out</c>): experiment trials per episode; whether the
/// train split's exploit trials are confounded (validation and test never are); a dimension that is never the concept
/// in train and is the concept in every validation and test episode.
/// </summary>
public sealed record OddOneOutRule(int Experiments = 3, bool ConfoundedTrain = false, Dimension? HeldoutDimension = null);

/// <summary>
/// Generates odd-one-out splits deterministically: episode i of a split depends only on the split seed and i (as for the
/// causal-DAG tasks), so any prefix is stable. Splits share no episode: validation redraws any test episode, train any
/// test or validation episode.
/// </summary>
public static class OddOneOutGenerator
{
    private const int MaxAttempts = 1000;

    public static IEnumerable<OddOneOutEpisode> Generate(TaskDefinition task, string split, int? count = null)
    {
        var n = count ?? task.Split(split).Episodes;
        for (var i = 0; i < n; i++)
        {
            yield return GenerateEpisode(task, split, i);
        }
    }

    public static OddOneOutEpisode GenerateEpisode(TaskDefinition task, string split, int index)
    {
        var rule = task.OddOneOut ?? throw new ArgumentException($"task {task.Id} is not an odd-one-out task", nameof(task));
        var seed = DatasetGenerator.EpisodeSeed(task, split, index);
        var random = new SeededRandom(seed);
        var heldOut = TaskDefinition.IsHeldOut(split);
        var excluded = Excluded(task, split);
        var concepts = rule.HeldoutDimension is { } held
            ? heldOut ? [held] : Dimensions.All.Remove(held)
            : Dimensions.All;
        var confounded = rule.ConfoundedTrain && split == TaskDefinition.TrainSplit;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var concept = concepts[random.NextInt(concepts.Length)];
            var experiments = ImmutableArray.CreateBuilder<ExperimentTrial>(rule.Experiments);
            for (var t = 0; t < rule.Experiments; t++)
            {
                var values = Dimensions.All.Select(d => Draw(d, random)).ToArray();
                var transforms = Dimensions.All.Select(d => DrawOther(d, values[(int)d], random)).ToImmutableArray();
                var objects = OddOneOutEpisode.ObjectNames.Select(name => new OddObject(name, values[0], values[1], values[2])).ToImmutableArray();
                experiments.Add(new ExperimentTrial(objects, transforms));
            }
            var exploit = ExploitObjects(confounded, random);
            var episode = new OddOneOutEpisode($"{split}-{index:D4}", seed, concept, experiments.MoveToImmutable(), exploit);
            if (!excluded.Contains(Key(episode)))
            {
                return episode;
            }
        }
        throw new InvalidOperationException($"task {task.Id}: no new episode after {MaxAttempts} attempts (episode {index})");
    }

    /// <summary>
    /// The exploit trial's four objects in random positions. Deconfounded: the common object, and three that each differ
    /// from it along one dimension (so each is unique along that one only, and the common one along none). Confounded:
    /// one object that differs along every dimension and three copies of the common object.
    /// </summary>
    private static ImmutableArray<OddObject> ExploitObjects(bool confounded, SeededRandom random)
    {
        var common = Dimensions.All.Select(d => Draw(d, random)).ToArray();
        var odd = Dimensions.All.Select(d => DrawOther(d, common[(int)d], random)).ToArray();
        var roles = new string[4][];
        if (confounded)
        {
            roles[0] = odd;
            roles[1] = roles[2] = roles[3] = common;
        }
        else
        {
            roles[0] = common;
            for (var d = 0; d < 3; d++)
            {
                var values = (string[])common.Clone();
                values[d] = odd[d];
                roles[d + 1] = values;
            }
        }
        // Fisher–Yates, so the right object's position tells nothing.
        for (var i = roles.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (roles[i], roles[j]) = (roles[j], roles[i]);
        }
        return [.. roles.Select((v, i) => new OddObject(OddOneOutEpisode.ObjectNames[i], v[0], v[1], v[2]))];
    }

    private static string Draw(Dimension dimension, SeededRandom random)
    {
        var values = dimension.Values();
        return values[random.NextInt(values.Length)];
    }

    private static string DrawOther(Dimension dimension, string not, SeededRandom random)
    {
        var values = dimension.Values();
        var i = random.NextInt(values.Length - 1);
        var skip = values.IndexOf(not);
        return values[i >= skip ? i + 1 : i];
    }

    /// <summary>What identifies an episode across splits: the concept, every experiment trial and the exploit objects.</summary>
    public static string Key(OddOneOutEpisode episode)
    {
        var text = new StringBuilder().Append(episode.Concept.Name()).Append('|');
        foreach (var trial in episode.Experiments)
        {
            text.Append(trial.Objects[0].Describe()).Append('>').AppendJoin(',', trial.Transforms).Append(';');
        }
        text.Append('|');
        foreach (var o in episode.ExploitObjects)
        {
            text.Append(o.Name).Append('=').Append(o.Describe()).Append(';');
        }
        return text.ToString();
    }

    private static readonly ConditionalWeakTable<TaskDefinition, Dictionary<string, HashSet<string>>> ExcludedKeys = new();

    /// <summary>The keys a split must not draw: those of the committed splits above it, generated once per task object.</summary>
    private static HashSet<string> Excluded(TaskDefinition task, string split)
    {
        string[] above = split switch
        {
            TaskDefinition.ValidationSplit => [TaskDefinition.TestSplit],
            TaskDefinition.TrainSplit => task.Validation is null ? [TaskDefinition.TestSplit] : [TaskDefinition.TestSplit, TaskDefinition.ValidationSplit],
            _ => [],
        };
        if (above.Length == 0)
        {
            return [];
        }
        var cache = ExcludedKeys.GetValue(task, _ => []);
        lock (cache)
        {
            if (!cache.TryGetValue(split, out var keys))
            {
                keys = [.. above.SelectMany(s => Generate(task, s)).Select(Key)];
                cache[split] = keys;
            }
            return keys;
        }
    }
}
