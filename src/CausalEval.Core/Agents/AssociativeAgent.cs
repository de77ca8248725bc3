using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>
/// Dasgupta et al.'s "optimal associative" reference: explores like the expert, then exploits by the true observational
/// regression slope of the target on each variable — the world's exact observational covariance, hidden root included,
/// as infinitely many passive observational samples would give it. Privileged (it reads the world, like
/// training-support); <c>builtin/correlational</c> is the same rule on the samples the agent actually saw.
/// </summary>
internal sealed class AssociativeAgent(World world) : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var names = view.Brief.Variables;
        double Slope(int cause, int effect) => ObservationalMoments.RegressionSlope(world, world.IndexOf(names[cause]), world.IndexOf(names[effect]));
        return view.Phase switch
        {
            Phase.Explore => new(AgentDecision.Act(BuiltinAgents.SystematicExperiment(view))),
            Phase.Exploit => new(AgentDecision.Act(BuiltinAgents.BestAction(view, Slope))),
            _ => new(AgentDecision.Answer(CorrelationalAgent.CorrelatedPairs(names, Slope))),
        };
    }
}
