using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline.Tests;

/// <summary>The leak check: what the default recipe trains on, all of it, against every task it is evaluated on.</summary>
public class TrainingDataTests
{
    private static readonly TaskCatalog Catalog = new(BaselineFixtures.Datasets);

    [Fact]
    public void The_default_recipes_whole_mix_holds_no_heldout_link_no_heldout_subset_and_no_evaluation_episode()
    {
        var defaults = new TrainingOptions();
        var tasks = defaults.Tasks.Select(Catalog.Load).ToList();

        var (episodes, sources) = Demonstrations.Select(tasks, defaults.EpisodesPerTask, HeldOutRules.From(Catalog));

        // Independently of HeldOutRules: every task's link and test subsets straight from task.json, and every committed
        // test and validation episode's world and target straight from the files.
        var all = Catalog.DagTaskIds().Select(Catalog.Load).ToList();
        var links = all.Select(t => t.HeldoutLink).OfType<DirectedLink>().ToList();
        var subsets = all.Where(t => t.Subsets is not null).SelectMany(t => t.Subsets!.Test).Select(s => string.Join(",", s.Order())).ToHashSet();
        var evaluation = all.SelectMany(t => new[] { "test", "validation" }.SelectMany(split => Catalog.LoadSplit(t.Id, split)))
            .Select(e => DatasetGenerator.Key(e.World, e.Target, default)).ToHashSet();
        Assert.Equal([new DirectedLink("D", "B")], links);
        Assert.Equal(3, subsets.Count);
        Assert.InRange(evaluation.Count, 1900, 2000); // 5 tasks × 2 splits × 200 episodes, a few worlds and targets shared

        Assert.Equal(tasks.Count * defaults.EpisodesPerTask, episodes.Count);
        Assert.All(episodes, d =>
        {
            var (task, e) = (d.Task, d.Episode);
            Assert.StartsWith("train-", e.Id, StringComparison.Ordinal);
            Assert.All(links, l => Assert.False(e.World.HasEdge(l.From, l.To), $"{task.Id} {e.Id} holds {l}"));
            Assert.True(e.Options.Subset.IsDefault || !subsets.Contains(string.Join(",", e.Options.Subset.Order())), $"{task.Id} {e.Id} cues a held-out subset");
            Assert.DoesNotContain(DatasetGenerator.Key(e.World, e.Target, default), evaluation);
        });
        // The leak the review found was real: a third of the other sources' train worlds hold D->B, and they are skipped now.
        Assert.All(sources, s => Assert.Equal<string>(["D->B"], s.ExcludedLinks));
        Assert.True(sources.Single(s => s.Task == "explore-exploit").Skipped["held-out link D->B"] > 1000);
        Assert.True(sources.Single(s => s.Task == "explore-exploit-heldout-subset").Skipped["held-out link D->B"] > 1000);
        Assert.False(sources.Single(s => s.Task == "explore-exploit-heldout-link").Skipped.ContainsKey("held-out link D->B"));
    }

    [Fact]
    public void Selection_is_the_train_split_in_index_order_minus_the_skipped_episodes()
    {
        var task = Catalog.Load("explore-exploit");

        var (episodes, sources) = Demonstrations.Select([task], 40, HeldOutRules.From(Catalog));

        var evaluation = Catalog.DagTaskIds().SelectMany(id => Catalog.LoadSplit(id, "test").Concat(Catalog.LoadSplit(id, "validation")))
            .Select(e => DatasetGenerator.Key(e.World, e.Target, default)).ToHashSet();
        var expected = Enumerable.Range(0, sources[0].Drawn).Select(i => DatasetGenerator.GenerateEpisode(task, "train", i))
            .Where(e => !e.World.HasEdge("D", "B") && !evaluation.Contains(DatasetGenerator.Key(e.World, e.Target, default))).Select(e => e.Id).ToList();
        Assert.Equal(expected, episodes.Select(d => d.Episode.Id));
        Assert.Equal(sources[0].Drawn - 40, sources[0].Skipped.Values.Sum());
    }
}
