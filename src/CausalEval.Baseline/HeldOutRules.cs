using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline;

/// <summary>
/// What no training episode of a checkpoint may contain, whatever task it comes from: every held-out link and every
/// held-out subset of every task the checkpoint is evaluated on as a generalisation test, and every (world, target)
/// of every committed evaluation split (test and validation). One source's train split excluding its own link is not
/// enough: the other sources' worlds would still show it (the leak this closes).
/// </summary>
internal sealed class HeldOutRules
{
    private readonly HashSet<string> _evaluationKeys;

    private HeldOutRules(ImmutableArray<DirectedLink> links, ImmutableArray<string> subsets, HashSet<string> evaluationKeys)
    {
        Links = links;
        Subsets = subsets;
        _evaluationKeys = evaluationKeys;
    }

    /// <summary>Held-out links of the evaluated tasks, e.g. D->B.</summary>
    public ImmutableArray<DirectedLink> Links { get; }

    /// <summary>Held-out subsets of the evaluated tasks, as sorted comma-joined names ("A,B,D").</summary>
    public ImmutableArray<string> Subsets { get; }

    public int EvaluationEpisodes => _evaluationKeys.Count;

    public static readonly HeldOutRules None = new([], [], []);

    /// <summary>The rules for a checkpoint evaluated on every task of the catalog (as <c>causaleval run</c> does by default).</summary>
    public static HeldOutRules From(TaskCatalog catalog)
    {
        var tasks = catalog.DagTaskIds().Select(catalog.Load).ToList();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            foreach (var split in TaskDefinition.CommittedSplits)
            {
                if (File.Exists(catalog.SplitPath(task.Id, split)))
                {
                    keys.UnionWith(catalog.LoadSplit(task.Id, split).Select(e => WorldAndTarget(e.World, e.Target)));
                }
            }
        }
        return new HeldOutRules(
            [.. tasks.Select(t => t.HeldoutLink).OfType<DirectedLink>().Distinct().OrderBy(l => l.ToString(), StringComparer.Ordinal)],
            [.. tasks.Where(t => t.Subsets is not null).SelectMany(t => t.Subsets!.Test).Select(s => SubsetName(s)).Distinct().Order(StringComparer.Ordinal)],
            keys);
    }

    /// <summary>Why an episode may not be trained on, or null when it may.</summary>
    public string? Violation(Episode episode)
    {
        var world = episode.World;
        foreach (var link in Links)
        {
            if (world.IndexOf(link.From) >= 0 && world.IndexOf(link.To) >= 0 && world.HasEdge(link.From, link.To))
            {
                return $"held-out link {link}";
            }
        }
        if (!episode.Options.Subset.IsDefault && Subsets.Contains(SubsetName(episode.Options.Subset)))
        {
            return $"held-out subset {SubsetName(episode.Options.Subset)}";
        }
        return _evaluationKeys.Contains(WorldAndTarget(world, episode.Target)) ? "an evaluation episode's world and target" : null;
    }

    public static string SubsetName(IEnumerable<string> subset) => string.Join(",", subset.Order(StringComparer.Ordinal));

    private static string WorldAndTarget(World world, string target) => DatasetGenerator.Key(world, target, default);
}
