using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;
using static CausalEval.Core.Tests.Support.Steps;

namespace CausalEval.Core.Tests.Episodes;

public class EpisodeEngineTests
{
    // Observable A–E, hidden U; target D. K = 5 explore steps by default.
    private static Episode Make(EpisodeOptions? options = null, double noiseSd = 0.1)
        => Episode(HandWorlds.FiveWithHidden(noiseSd), "D", options);

    private static async Task<(EpisodeTranscript Transcript, ScriptedAgent Agent)> Play(Episode episode, ulong seed, params AgentDecision[] script)
    {
        var agent = new ScriptedAgent(script);
        var transcript = await EpisodeEngine.RunAsync(episode, agent, seed);
        return (transcript, agent);
    }

    [Fact]
    public async Task BadAnswers_AreRecordedWithTheirStatusAndError_UseUpTheStep_AndAreShownInTheNextView()
    {
        var episode = Make();
        var (transcript, agent) = await Play(episode, 1,
            Do("Z", 5),              // unknown variable
            Do("U", 5),              // hidden variable
            Do("A", 3),              // value not offered
            Unreadable("no ACTION line found"),
            Do("B", -5),             // valid
            Do("D", 5));             // exploit on the target

        Assert.Equal(6, transcript.Steps.Length); // 5 explore + 1 exploit: every bad answer used up its step
        Assert.Equal(0, agent.Remaining);

        var steps = transcript.Steps;
        Assert.Equal([0, 1, 2, 3, 4, 5], steps.Select(s => s.Index));
        Assert.Equal(StepStatus.Invalid, steps[0].Status);
        Assert.Contains("'Z'", steps[0].Error, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Invalid, steps[1].Status);
        Assert.Contains("'U'", steps[1].Error, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Invalid, steps[2].Status);
        Assert.Contains("value 3 is not allowed", steps[2].Error, StringComparison.Ordinal);
        Assert.Equal(StepStatus.ParseFailure, steps[3].Status);
        Assert.Equal("no ACTION line found", steps[3].Error);
        Assert.Null(steps[3].Action);
        Assert.Equal(StepStatus.Valid, steps[4].Status);
        Assert.Null(steps[4].Error);
        Assert.Equal(Phase.Exploit, steps[5].Phase);
        Assert.Equal(StepStatus.Invalid, steps[5].Status);
        Assert.Contains("target", steps[5].Error, StringComparison.Ordinal);

        // Bad steps have no observation; the valid one does.
        Assert.All(steps.Take(4), s => Assert.True(s.Observation.IsDefault));
        Assert.Equal(5, steps[4].Observation.Length);

        // Each view's history is exactly the steps before it, with their status and error.
        Assert.Equal(6, agent.Views.Count);
        for (var i = 0; i < agent.Views.Count; i++)
        {
            Assert.Equal(i, agent.HistoriesSeen[i].Length);
            Assert.Equal(i, agent.Views[i].StepIndex);
            for (var j = 0; j < i; j++)
            {
                Assert.Equal(steps[j], agent.HistoriesSeen[i][j]);
            }
        }
        Assert.Equal(StepStatus.Invalid, agent.HistoriesSeen[1][0].Status);
        Assert.Equal(steps[0].Error, agent.HistoriesSeen[1][0].Error);
        Assert.Equal(StepStatus.ParseFailure, agent.HistoriesSeen[4][3].Status);
    }

    [Fact]
    public async Task TheViewsHistory_IsTheLiveStepList_WhichEndsAsTheTranscript()
    {
        var episode = Make(options: new EpisodeOptions { AskStructure = true, ExploreSteps = 2 });
        var (transcript, agent) = await Play(episode, 1, Do("A", 5), Do("B", -5), Do("B", 5), Edges("A->B"));

        var live = agent.Views[0].History;

        Assert.Equal(4, transcript.Steps.Length);
        Assert.Equal([0, 1, 2, 3], agent.HistoriesSeen.Select(h => h.Length));
        Assert.Equal(transcript.Steps, live);
        Assert.Equal(transcript.Steps[2], live[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => live[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => live[-1]);
    }

    [Fact]
    public async Task AnExploitOutsideTheCuedSubset_IsInvalid_ButExplorationOutsideItIsAllowed()
    {
        var episode = Make(new EpisodeOptions { Subset = Subset("A", "B", "C") });
        var (transcript, agent) = await Play(episode, 2,
            Do("E", 5), Do("A", 5), Do("B", 5), Do("C", 5), Do("A", -5), // K is still the number of observable variables
            Do("E", 5));

        Assert.Equal(5, episode.ExploreSteps);
        Assert.Equal(StepStatus.Valid, transcript.Steps[0].Status); // exploring outside the cue is recorded, not rejected
        var exploit = transcript.Exploit!;
        Assert.Equal(StepStatus.Invalid, exploit.Status);
        Assert.Contains("not one of the variables you may set", exploit.Error, StringComparison.Ordinal);
        Assert.Equal<string>(["A", "B", "C"], agent.Views[0].Brief.ExploreVariables);
        Assert.Equal<string>(["A", "B", "C"], agent.Views[0].Brief.Subset);
    }

    [Fact]
    public async Task AnUnreadableExploit_IsAParseFailureWithADefaultMessageWhenTheAgentGaveNone()
    {
        var episode = Make(new EpisodeOptions { ExploreSteps = 0 });
        var (transcript, _) = await Play(episode, 3, new AgentDecision());

        var exploit = Assert.Single(transcript.Steps);
        Assert.Equal(StepStatus.ParseFailure, exploit.Status);
        Assert.False(string.IsNullOrEmpty(exploit.Error));
    }

    [Fact]
    public async Task AValidRun_ObservesRoundedValuesOfObservableVariablesOnly()
    {
        var episode = Make(noiseSd: 0.37);
        var (transcript, agent) = await Play(episode, 4,
            Do("A", 5), Do("B", -5), Do("C", 5), Do("D", -5), Do("E", 5), Do("C", -5));

        Assert.All(transcript.Steps, s => Assert.Equal(StepStatus.Valid, s.Status));
        var explore = transcript.Steps.Where(s => s.Phase == Phase.Explore).ToList();
        Assert.Equal(5, explore.Count);
        foreach (var step in explore)
        {
            Assert.Equal(5, step.Observation.Length); // A–E, never U
            Assert.All(step.Observation, v => Assert.Equal(Math.Round(v, 2), v));
            var i = episode.World.Observable.IndexOf(step.Action!.Value.Variable);
            Assert.Equal(step.Action.Value.Value, step.Observation[i]); // the intervened variable shows v exactly
        }
        // Downstream values follow the world: under do(A=5), C = A + B ≈ 5 + B; under do(C=5), D ≈ −5.
        Assert.InRange(explore[2].Observation[3], -5 - 4 * 0.37, -5 + 4 * 0.37);
        Assert.True(explore.SelectMany(s => s.Observation).Any(v => v != Math.Round(v)), "noise should show in the observations");
        Assert.Equal<string>(["A", "B", "C", "D", "E"], agent.Views[0].Brief.Variables);
        Assert.True(transcript.Exploit!.Observation.IsDefault);
    }

    [Fact]
    public async Task TheSameEnvironmentSeed_GivesTheSameObservations()
    {
        var script = new[] { Do("A", 5), Do("B", -5), Do("C", 5), Do("D", -5), Do("E", 5), Do("C", -5) };
        var (first, _) = await Play(Make(noiseSd: 0.5), 77, script);
        var (again, _) = await Play(Make(noiseSd: 0.5), 77, script);
        var (other, _) = await Play(Make(noiseSd: 0.5), 78, script);

        Assert.Equal(first.Steps.Select(Shown), again.Steps.Select(Shown));
        Assert.NotEqual(first.Steps[0].Observation.ToArray(), other.Steps[0].Observation.ToArray());
    }

    private static string Shown(StepRecord step) => step.Observation.IsDefault ? "" : string.Join(",", step.Observation);

    [Fact]
    public async Task AnInvalidStepStillConsumesItsNoise_SoLaterStepsSeeTheSameDraws()
    {
        var episode = Make(noiseSd: 0.5);
        var (withInvalid, _) = await Play(episode, 5, Do("Z", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", 5));
        var (allValid, _) = await Play(episode, 5, Do("A", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", 5));

        for (var i = 1; i < 5; i++)
        {
            Assert.Equal(allValid.Steps[i].Observation.ToArray(), withInvalid.Steps[i].Observation.ToArray());
        }
    }

    [Fact]
    public async Task ByDefault_TheTargetIsHiddenDuringExploration_AndRevealedForTheExploit()
    {
        var (_, agent) = await Play(Make(), 6, Do("A", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", -5));

        Assert.All(agent.Views.Take(5), v =>
        {
            Assert.Equal(Phase.Explore, v.Phase);
            Assert.Null(v.Target);
            Assert.False(v.Brief.GoalFirst);
        });
        Assert.Equal(Phase.Exploit, agent.Views[5].Phase);
        Assert.Equal("D", agent.Views[5].Target);
        Assert.Equal(5, agent.Views[5].StepIndex);
    }

    [Fact]
    public async Task GoalFirst_RevealsTheTargetDuringExploration()
    {
        var (_, agent) = await Play(Make(new EpisodeOptions { GoalFirst = true }), 7,
            Do("A", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", -5));

        Assert.All(agent.Views, v => Assert.Equal("D", v.Target));
        Assert.True(agent.Views[0].Brief.GoalFirst);
    }

    [Fact]
    public async Task TheStructurePhase_OnlyHappensWhenAsked()
    {
        var script = new[] { Do("A", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", -5), Edges("A->C", "B->C") };

        var (without, agentWithout) = await Play(Make(), 8, script);
        var (with, agentWith) = await Play(Make(new EpisodeOptions { AskStructure = true }), 8, script);

        Assert.Null(without.Structure);
        Assert.DoesNotContain(agentWithout.Views, v => v.Phase == Phase.Structure);
        Assert.Equal(1, agentWithout.Remaining);

        var structure = with.Structure!;
        Assert.Equal(StepStatus.Valid, structure.Status);
        Assert.Equal(6, structure.Index);
        Assert.Equal<DirectedLink>([new DirectedLink("A", "C"), new DirectedLink("B", "C")], structure.Decision.Edges!.Value);
        var view = agentWith.Views[^1];
        Assert.Equal(Phase.Structure, view.Phase);
        Assert.Equal("D", view.Target);
        Assert.Equal(6, agentWith.HistoriesSeen[^1].Length); // the explore steps and the exploit
        Assert.True(view.Brief.AskStructure);
    }

    [Theory]
    [InlineData("A->U", "names an unknown variable")]  // hidden variable
    [InlineData("U->A", "names an unknown variable")]
    [InlineData("A->Q", "names an unknown variable")]  // unknown variable
    [InlineData("A->A", "is a self-loop")]             // self-loop (names parsed from the answer: not the world's strings)
    public async Task ABadStructureAnswer_IsInvalid(string edge, string error)
    {
        var episode = Make(new EpisodeOptions { AskStructure = true, ExploreSteps = 0 });
        var (transcript, _) = await Play(episode, 9, Do("C", -5), Edges("A->C", edge));

        Assert.Equal(StepStatus.Invalid, transcript.Structure!.Status);
        Assert.Equal($"edge {edge} {error}", transcript.Structure.Error);
    }

    [Fact]
    public async Task AStructureAnswerWithoutEdges_IsAParseFailure()
    {
        var episode = Make(new EpisodeOptions { AskStructure = true, ExploreSteps = 0 });
        var (transcript, _) = await Play(episode, 9, Do("C", -5), Unreadable("no EDGES line"));

        Assert.Equal(StepStatus.ParseFailure, transcript.Structure!.Status);
        Assert.Equal("no EDGES line", transcript.Structure.Error);
    }

    [Fact]
    public async Task AnEmptyEdgeListIsAValidStructureAnswer()
    {
        var episode = Make(new EpisodeOptions { AskStructure = true, ExploreSteps = 0 });
        var (transcript, _) = await Play(episode, 9, Do("C", -5), AgentDecision.Answer([]));

        Assert.Equal(StepStatus.Valid, transcript.Structure!.Status);
    }

    [Fact]
    public async Task ExploreStepsOption_OverridesK()
    {
        var (transcript, agent) = await Play(Make(new EpisodeOptions { ExploreSteps = 2 }), 10, Do("A", 5), Do("B", 5), Do("C", -5));

        Assert.Equal(3, transcript.Steps.Length);
        Assert.Equal(2, agent.Views[0].Brief.ExploreSteps);
    }

    [Fact]
    public async Task TheAgentNeverSeesHiddenVariables()
    {
        var (_, agent) = await Play(Make(), 11, Do("A", 5), Do("B", 5), Do("C", 5), Do("D", 5), Do("E", 5), Do("C", -5));

        Assert.All(agent.Views, v =>
        {
            Assert.DoesNotContain("U", v.Brief.Variables);
            Assert.DoesNotContain("U", v.Brief.ExploreVariables);
            Assert.Equal("hand-0001", v.Brief.EpisodeId);
        });
        // The view type carries no world: only the brief, the phase, the step, the goal and the history.
        Assert.DoesNotContain(typeof(EpisodeView).GetProperties(), p => p.PropertyType == typeof(World) || p.PropertyType == typeof(Episode));
        Assert.DoesNotContain(typeof(EpisodeBrief).GetProperties(), p => p.PropertyType == typeof(World) || p.PropertyType == typeof(Episode));
    }

    [Fact]
    public async Task PassiveEpisodes_GoStraightToTheExploitWithTheEvidenceInTheBrief()
    {
        var evidence = new PassiveEvidence(PassiveEvidence.Observational,
            [new EvidenceSample(null, [0.1, 0.2, 0.3, 0.4, 0.5]), new EvidenceSample(new Intervention("A", 5), [5, 0, 5, -5, 5])]);
        var (transcript, agent) = await Play(Make(new EpisodeOptions { Evidence = evidence }), 12, Do("C", -5));

        var exploit = Assert.Single(transcript.Steps);
        Assert.Equal(Phase.Exploit, exploit.Phase);
        var view = Assert.Single(agent.Views);
        Assert.Same(evidence, view.Brief.Evidence);
        Assert.Equal("D", view.Target);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(6)]
    public async Task AnAgentWhoseAnswersAreNotReady_FromAnyStepOn_GetsTheSameViewsAndTranscript(int fromStep)
    {
        var episode = Make(options: new EpisodeOptions { AskStructure = true }, noiseSd: 0.5);
        AgentDecision[] script = [Do("A", 5), Do("Z", 5), Do("C", -5), Unreadable(), Do("E", 5), Do("C", 5), Edges("A->B")];
        var (ready, readyAgent) = await Play(episode, 11, script);

        var scripted = new ScriptedAgent(script);
        var later = await EpisodeEngine.RunAsync(episode, new YieldingAgent(scripted, fromStep), 11);

        Assert.Equal(7, later.Steps.Length);
        Assert.Equal(ready.Steps.Select(Describe), later.Steps.Select(Describe));
        Assert.Equal(readyAgent.HistoriesSeen.Select(h => h.Length), scripted.HistoriesSeen.Select(h => h.Length));
        Assert.Equal(readyAgent.Views.Select(v => (v.Phase, v.StepIndex, v.Target)), scripted.Views.Select(v => (v.Phase, v.StepIndex, v.Target)));
    }

    private static string Describe(StepRecord step) => $"{step.Index} {step.Phase} {step.Status} {step.Error} {Shown(step)}";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAgentThatThrows_FaultsTheReturnedTask_InsteadOfThrowingAtTheCall(bool notReady)
    {
        // Two decisions for an episode of five explore steps: the agent throws at step 2.
        var agent = new ScriptedAgent(Do("A", 5), Do("B", 5));
        var pending = EpisodeEngine.RunAsync(Make(), notReady ? new YieldingAgent(agent, 0) : agent, 1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pending);
        Assert.Contains("Explore step 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACancelledToken_EndsTheReturnedTaskAsCancelled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        var pending = EpisodeEngine.RunAsync(Make(), new ScriptedAgent(Do("A", 5)), 1, cts.Token);

        Assert.True(pending.IsCanceled);
    }

    [Fact]
    public async Task Cancellation_StopsTheEpisode()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await EpisodeEngine.RunAsync(Make(), new ScriptedAgent(Do("A", 5)), 1, cts.Token));
    }

    [Fact]
    public async Task UsageIsSummedOverSteps()
    {
        var step = Do("A", 5) with { Usage = new Usage(10, 2) };
        var (transcript, _) = await Play(Make(new EpisodeOptions { ExploreSteps = 2 }), 13, step, step, Do("C", -5) with { Usage = new Usage(1, 1) });

        Assert.Equal(new Usage(21, 5), transcript.Usage);
    }

    [Theory]
    [InlineData(0.125, 0.13)]   // an exact midpoint rounds away from zero, as text would show it
    [InlineData(-0.125, -0.13)]
    [InlineData(2.344, 2.34)]
    [InlineData(-0.001, 0.0)]
    public void RoundForDisplay_RoundsToTwoDecimals(double value, double shown)
    {
        var rounded = EpisodeEngine.RoundForDisplay(value);

        Assert.Equal(shown, rounded);
        Assert.False(double.IsNegative(rounded) && rounded == 0, "−0 must not be shown");
    }

    [Fact]
    public void EpisodeBrief_IndexOfFindsObservableVariablesOnly()
    {
        var brief = EpisodeBrief.From(Make());

        Assert.Equal(2, brief.IndexOf("C"));
        Assert.Equal(-1, brief.IndexOf("U"));
        Assert.Equal(["A", "B", "C", "E"], brief.ExploitVariables("D"));
        Assert.Equal<double>([5, -5], brief.AllowedValues);
    }
}
