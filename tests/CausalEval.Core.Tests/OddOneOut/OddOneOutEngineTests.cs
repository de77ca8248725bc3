using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.OddOneOut;

public class OddOneOutEngineTests
{
    /// <summary>
    /// Concept texture. Every experiment trial: four red solid cubes; a transform makes one blue, grid or a star.
    /// Exploit: A common, B the only blue, C the only grid, D the only star — C is right.
    /// </summary>
    internal static OddOneOutEpisode Hand(Dimension concept = Dimension.Texture)
    {
        var cube = new OddObject("A", "red", "solid", "cube");
        var trial = new ExperimentTrial([.. OddOneOutEpisode.ObjectNames.Select(n => cube with { Name = n })], ["blue", "grid", "star"]);
        ImmutableArray<OddObject> exploit =
        [
            cube,
            new("B", "blue", "solid", "cube"),
            new("C", "red", "grid", "cube"),
            new("D", "red", "solid", "star"),
        ];
        return new OddOneOutEpisode("hand-0000", 1, concept, [trial, trial, trial], exploit);
    }

    internal static AgentDecision Transform(string obj, Dimension d) => AgentDecision.Act(OddOneOutMove.TransformOf(obj, d));

    internal static AgentDecision Pick(string obj) => AgentDecision.Act(OddOneOutMove.PickOf(obj));

    private static readonly AgentDecision Unreadable = new() { ParseError = "no ACTION line", RawAnswer = "hmm" };

    private static async Task<EpisodeTranscript> Play(OddOneOutEpisode episode, params AgentDecision[] script)
    {
        var agent = new ScriptedAgent(script);
        var transcript = await OddOneOutEngine.RunAsync(episode, agent);
        Assert.Equal(0, agent.Remaining);
        return transcript;
    }

    [Fact]
    public async Task A_transform_makes_one_object_odd_and_a_pick_is_correct_only_when_it_is_odd_along_the_concept()
    {
        var episode = Hand();
        var agent = new ScriptedAgent(
            Transform("B", Dimension.Texture), Pick("B"),
            Transform("A", Dimension.Colour), Pick("A"),
            Transform("C", Dimension.Texture), Pick("D"),
            Pick("C"));

        var transcript = await OddOneOutEngine.RunAsync(episode, agent);

        Assert.Equal(7, transcript.Steps.Length);
        Assert.Equal(["solid", "grid", "solid", "solid"], transcript.Steps[0].Outcome!.Objects.Select(o => o.Texture));
        Assert.Equal([null, true, null, false, null, false, true], transcript.Steps.Select(s => s.Outcome!.Correct));
        Assert.Equal([Phase.Explore, Phase.Explore, Phase.Explore, Phase.Explore, Phase.Explore, Phase.Explore, Phase.Exploit], transcript.Steps.Select(s => s.Phase));
        // What each step asked for, and each trial starts from the episode's own objects again.
        Assert.Equal([TrialStage.Transform, TrialStage.Pick, TrialStage.Transform, TrialStage.Pick, TrialStage.Transform, TrialStage.Pick, TrialStage.Pick],
            agent.Views.Select(v => v.OddOneOut!.Stage));
        Assert.All(agent.Views.Where(v => v.OddOneOut!.Stage == TrialStage.Transform), v => Assert.All(v.OddOneOut!.Objects, o => Assert.Equal("solid", o.Texture)));
        Assert.True(agent.Views[^1].OddOneOut!.Exploit);
        Assert.Equal(episode.ExploitObjects, agent.Views[^1].OddOneOut!.Objects);
        Assert.Equal(["A", "B", "C", "D"], agent.Views[0].Brief.Variables.ToArray());
    }

    [Fact]
    public async Task Invalid_and_unreadable_answers_are_recorded_and_use_up_their_step()
    {
        var transcript = await Play(Hand(),
            Pick("A"), Pick("A"),                              // a pick where a transform was asked: nothing changes, and A is then not odd
            Transform("E", Dimension.Shape), Unreadable,        // an unknown object; an unreadable pick
            Transform("A", Dimension.Texture), Transform("A", Dimension.Texture),
            Pick("Q"));

        Assert.Equal(
            [StepStatus.Invalid, StepStatus.Valid, StepStatus.Invalid, StepStatus.ParseFailure, StepStatus.Valid, StepStatus.Invalid, StepStatus.Invalid],
            transcript.Steps.Select(s => s.Status));
        Assert.Equal("this step asks for transform(<object>, <dimension>)", transcript.Steps[0].Error);
        Assert.False(transcript.Steps[1].Outcome!.Correct);
        Assert.Equal("'E' is not an object of this trial", transcript.Steps[2].Error);
        Assert.Equal("no ACTION line", transcript.Steps[3].Error);
        Assert.Null(transcript.Steps[3].Outcome!.Correct);
        Assert.Equal("this step asks for pick(<object>)", transcript.Steps[5].Error);
        Assert.Equal("'Q' is not an object of this trial", transcript.Steps[6].Error);

        var scores = OddOneOutScoring.Score(Hand(), transcript);

        Assert.Equal((4, 1), (scores.InvalidActions, scores.ParseFailures));
        Assert.Null(scores.ExploitValue);
        Assert.Equal((0, 1.0, -1.0 / 3), (scores.OptimalAction, scores.Regret!.Value, scores.Normalized!.Value));
    }

    [Fact]
    public async Task Hand_worked_scores_of_a_transcript_with_one_wasted_trial()
    {
        // Trial 1 tests colour (wrong: colour excluded); trial 2 is unreadable then picks an unchanged object (certainly
        // wrong, so uninformative); trial 3 tests texture (right). The exploit picks C, the only grid object.
        var transcript = await Play(Hand(),
            Transform("A", Dimension.Colour), Pick("A"),
            Unreadable, Pick("B"),
            Transform("B", Dimension.Texture), Pick("B"),
            Pick("C"));

        var s = OddOneOutScoring.Score(Hand(), transcript);

        var third = -(Math.Log2(1.0 / 3) / 3 + Math.Log2(2.0 / 3) * 2 / 3); // H(1/3) bits: one concept in three is confirmed
        Assert.Equal((1.0, 1, 1.0, 0.0, 1.0), (s.ExploitValue!.Value, s.OptimalAction, s.OptimalValue, s.Regret!.Value, s.Normalized!.Value));
        Assert.Equal(2.0 / 3, s.ExploreCoverage!.Value, 12);
        Assert.Equal(2.0 / 3, s.InformativeExperiments!.Value, 12);
        Assert.Equal((0, 1), (s.InvalidActions, s.ParseFailures));
        Assert.Equal((1.0, 0.0, 0.0), (s.EvidenceValue!.Value, s.ExplorationRegret!.Value, s.InferenceRegret!.Value));
        Assert.Equal(third + 0 + 1, s.ExploreInformation!.Value, 12);
        Assert.Equal(third + 1 + 1, s.BestInformation!.Value, 12);
        Assert.Equal((third + 1) / (third + 2), s.ExploreEfficiency!.Value, 12);
    }

    [Fact]
    public async Task Regret_splits_into_what_the_evidence_cost_and_what_the_reasoning_cost()
    {
        // Only colour tested (wrong): texture and shape stay possible, so the Bayes exploit picks C or D (half right);
        // the agent then picks B, the colour-odd object it has just excluded.
        var transcript = await Play(Hand(),
            Transform("A", Dimension.Colour), Pick("A"),
            Transform("A", Dimension.Colour), Pick("A"),
            Transform("A", Dimension.Colour), Pick("A"),
            Pick("B"));

        var s = OddOneOutScoring.Score(Hand(), transcript);

        Assert.Equal((0.5, 0.5, 0.5), (s.EvidenceValue!.Value, s.ExplorationRegret!.Value, s.InferenceRegret!.Value));
        Assert.Equal(s.Regret!.Value, s.ExplorationRegret!.Value + s.InferenceRegret!.Value, 12);
        Assert.Equal(1.0 / 3, s.InformativeExperiments!.Value, 12);
        Assert.Equal(1.0 / 3, s.ExploreCoverage!.Value, 12);
    }
}
