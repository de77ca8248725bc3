using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.FewShot;
using CausalEval.Prompts.Templates;

namespace CausalEval.Prompts.Tests;

/// <summary>Few-shot examples come from the task's train split only, never a world with the held-out link.</summary>
public class FewShotTests
{
    [Theory]
    [InlineData("explore-exploit")]
    [InlineData("explore-exploit-heldout-link")]
    [InlineData("explore-exploit-heldout-subset")]
    [InlineData("passive-exploit-interventional")]
    [InlineData("passive-exploit-observational")]
    public void Every_test_episode_gets_three_train_examples_and_never_the_held_out_link_or_a_test_subset(string taskId)
    {
        var task = Repo.Tasks.Load(taskId);
        var test = Repo.Tasks.LoadTestSplit(taskId).ToList();
        var testWorlds = test.Select(e => WorldKey(e)).ToHashSet();
        var requested = new List<int>();
        FewShotSelector.TrainEpisodeSource spy = (t, i) =>
        {
            requested.Add(i);
            return FewShotSelector.Generated(t, i);
        };

        var chosen = new HashSet<string>();
        foreach (var episode in test)
        {
            var examples = FewShotSelector.Select(task, episode, spy);

            Assert.Equal(3, examples.Length);
            Assert.All(examples, e => Assert.StartsWith("train-", e.Id));
            Assert.Equal(3, examples.Select(e => e.Id).Distinct().Count());
            Assert.All(examples, e => Assert.DoesNotContain(WorldKey(e), testWorlds));
            if (task.HeldoutLink is { } link)
            {
                Assert.All(examples, e => Assert.False(e.World.HasEdge(link.From, link.To), $"{e.Id} has the held-out link {link}"));
            }
            if (task.Subsets is { } subsets)
            {
                var testSubsets = subsets.Test.Select(s => string.Join(",", s)).ToHashSet();
                Assert.All(examples, e => Assert.DoesNotContain(string.Join(",", e.Options.Subset), testSubsets));
            }
            Assert.Equal(examples.Select(e => e.Id), FewShotSelector.Select(task, episode).Select(e => e.Id)); // deterministic
            chosen.UnionWith(examples.Select(e => e.Id));
        }
        Assert.All(requested, i => Assert.InRange(i, 0, task.Train.Episodes - 1));
        Assert.True(chosen.Count > 100, "episodes get different examples"); // 200 episodes × 3 draws from 1000
    }

    [Fact]
    public void The_generated_source_reads_the_train_split()
    {
        var task = Repo.Tasks.Load("explore-exploit-heldout-link");
        var episode = FewShotSelector.Generated(task, 17);

        Assert.Equal("train-0017", episode.Id);
        Assert.Equal(DatasetGenerator.GenerateEpisode(task, "train", 17).Seed, episode.Seed);
    }

    [Fact]
    public void A_world_with_the_held_out_link_is_skipped_even_if_a_source_offers_one()
    {
        var task = Repo.Tasks.Load("explore-exploit-heldout-link");
        var withLink = Repo.Tasks.LoadTestSplit(task.Id).ToList(); // every test world has D->B
        FewShotSelector.TrainEpisodeSource poisoned = (t, i) => i % 2 == 0 ? withLink[i % withLink.Count] : FewShotSelector.Generated(t, i);

        foreach (var episode in withLink.Take(50))
        {
            var examples = FewShotSelector.Select(task, episode, poisoned);
            Assert.All(examples, e => Assert.False(e.World.HasEdge("D", "B")));
            Assert.All(examples, e => Assert.StartsWith("train-", e.Id));
        }
    }

    [Fact]
    public async Task The_agent_reads_examples_through_the_train_source_only()
    {
        var (task, episode) = Repo.TestEpisode("explore-exploit-heldout-link");
        var requested = new List<Episode>();
        FewShotSelector.TrainEpisodeSource spy = (t, i) =>
        {
            var e = FewShotSelector.Generated(t, i);
            lock (requested)
            {
                requested.Add(e);
            }
            return e;
        };
        var setup = new LlmAgentSetup(Repo.Prompts, new ExpertExamples(spy), TimeProvider.System);
        var client = new ScriptedChatClient((call, _) => call < 5 ? $"ACTION: do({(char)('A' + call)} = 5)" : "ACTION: do(A = 5)");
        var agent = LlmAgent.Factory(client, setup, ModelSettings.Default)(new Core.Agents.TrialContext("t", episode, 1, 1, PromptLibrary.DefaultVariant, "letters", task));

        await EpisodeEngine.RunAsync(episode, agent, 3);

        Assert.Equal(3, requested.Count);
        Assert.All(requested, e => Assert.StartsWith("train-", e.Id));
        var system = client.Requests[0][0].Text;
        Assert.Contains("=== Example 3 ===", system);
        Assert.DoesNotContain("=== Example 4 ===", system);
    }

    private static string WorldKey(Episode e) => string.Join(";", e.World.Edges.OrderBy(x => x.From).ThenBy(x => x.To).Select(x => $"{x.From}{x.To}{x.Weight}"));
}
