using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>
/// <c>builtin/bayes</c>, the ideal observer as a player (DESIGN §1.6): each explore step runs the most informative
/// allowed experiment under its exact posterior (ties: variable order, then value order), the exploit step a Bayes
/// exploit given everything it has seen, and the structure answer is the most probable DAG. It reads only the episode's
/// view (passive evidence and its own observations) and the task's family, never the true world.
/// </summary>
internal sealed class BayesAgent(ObserverModel model) : IAgent
{
    public static IAgent Create(TrialContext context)
        => ObserverScoring.ModelFor(context.Dag, context.Task) is { } model ? new BayesAgent(model) : new ExpertAgent();

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var brief = view.Brief;
        var evidence = ObserverScoring.EvidenceBefore(brief, view.History, view.History.Count);
        if (view.Phase == Phase.Explore)
        {
            // The information alone: a full summary of an early, broad posterior costs several times more.
            var information = ObserverCache.Information(model, evidence, ObserverScoring.Shown(brief));
            return new(AgentDecision.Act(information.Experiments(brief.ExploreVariables, brief.AllowedValues).Best[0].Experiment));
        }
        if (view.Phase == Phase.Exploit)
        {
            var exploit = ObserverCache.Exploit(model, evidence, ObserverScoring.Shown(brief), view.Target!, brief.ExploitVariables(view.Target!), brief.AllowedValues);
            return new(AgentDecision.Act(exploit.Optimal[0].Action));
        }
        var top = ObserverCache.Top(model, evidence, ObserverScoring.Shown(brief), 1);
        return new(AgentDecision.Answer([.. top[0].Edges.Select(e => new DirectedLink(e.From, e.To))]));
    }
}
