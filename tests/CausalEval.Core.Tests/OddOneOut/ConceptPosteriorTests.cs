using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.OddOneOut;

public class ConceptPosteriorTests
{
    /// <summary>Every transform of A or B along any dimension, or an unreadable one, each followed by a pick of A or B.</summary>
    private static IEnumerable<(AgentDecision Transform, AgentDecision Pick)> TrialChoices()
    {
        var transforms = new List<AgentDecision> { new() { ParseError = "unreadable" } };
        transforms.AddRange(from o in new[] { "A", "B" } from d in Dimensions.All select OddOneOutEngineTests.Transform(o, d));
        return from t in transforms from p in new[] { "A", "B" } select (t, OddOneOutEngineTests.Pick(p));
    }

    [Fact]
    public async Task The_posterior_matches_brute_force_counting_over_concepts_and_every_sequence_of_experiments()
    {
        // Under the uniform prior, P(concept | moves, outcomes) is the share of concepts that, played with the same moves,
        // give the same outcomes. Enumerate every concept with every 3-trial sequence, play each through the engine, group.
        var choices = TrialChoices().ToList();
        var groups = new Dictionary<string, (int[] Counts, ConceptPosterior Posterior)>();
        foreach (var concept in Dimensions.All)
        {
            var episode = OddOneOutEngineTests.Hand(concept);
            foreach (var first in choices)
            {
                foreach (var second in choices)
                {
                    foreach (var third in choices)
                    {
                        var agent = new ScriptedAgent(first.Transform, first.Pick, second.Transform, second.Pick, third.Transform, third.Pick,
                            OddOneOutEngineTests.Pick("A"));
                        var transcript = await OddOneOutEngine.RunAsync(episode, agent);
                        var experiments = transcript.Steps.Where(s => s.Phase == Phase.Explore).ToList();
                        var key = string.Join(";", experiments.Select(s => $"{s.Decision.Move?.ToString() ?? "?"}={s.Outcome!.Correct}"));
                        var posterior = ConceptPosterior.After(transcript.Steps);
                        if (!groups.TryGetValue(key, out var group))
                        {
                            group = (new int[3], posterior);
                            groups[key] = group;
                        }
                        group.Counts[(int)concept]++;
                        // The same moves and outcomes must give the same posterior whatever the true concept.
                        Assert.Equal(group.Posterior.Probabilities.ToArray(), posterior.Probabilities.ToArray());
                    }
                }
            }
        }

        Assert.True(groups.Count > choices.Count * choices.Count, "the enumeration should separate many outcome histories");
        foreach (var (key, (counts, posterior)) in groups)
        {
            var total = counts.Sum();
            foreach (var d in Dimensions.All)
            {
                Assert.True(Math.Abs((double)counts[(int)d] / total - posterior[d]) < 1e-12, $"{key}: {d}");
            }
        }
    }

    [Fact]
    public void Bayes_picks_are_the_objects_most_likely_right_and_information_is_the_outcomes_entropy()
    {
        var exploit = OddOneOutEngineTests.Hand().ExploitObjects;

        Assert.Equal([0.0, 1.0 / 3, 1.0 / 3, 1.0 / 3], ConceptPosterior.Uniform.PickValues(exploit).ToArray());
        Assert.Equal([1, 2, 3], ConceptPosterior.Uniform.BayesPicks(exploit).ToArray());
        var noColour = new ConceptPosterior([0, 0.5, 0.5]);
        Assert.Equal([2, 3], noColour.BayesPicks(exploit).ToArray());
        Assert.Equal(1.0, noColour.Information(exploit, 2), 12);
        Assert.Equal(0.0, noColour.Information(exploit, 1), 12);
        Assert.Equal(0.0, new ConceptPosterior([0, 1, 0]).BestInformation(OddOneOutEngineTests.Hand().Experiments[0]), 12);
    }

    [Fact]
    public void An_outcome_no_concept_explains_is_refused()
    {
        var objects = OddOneOutEngineTests.Hand().ExploitObjects;
        var textureOnly = new ConceptPosterior([0, 1, 0]);

        Assert.Throws<InvalidOperationException>(() => textureOnly.Update(objects, 1, correct: true));
    }
}
