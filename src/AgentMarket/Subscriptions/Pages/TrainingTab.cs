namespace AgentMarket.Subscriptions.Pages;

/// <summary>
/// The Configure page's Training tab (SPEC §6: the buyer's knowledge base — documents, Q&amp;A pairs, topics). The Knowledge
/// area contributes the component that renders it by registering one of these as a singleton; without a registration
/// the tab is not offered. The component receives <c>Config</c> (the <see cref="ConfigResponse"/>, whose
/// <c>KnowledgeBase</c> names the subscription's knowledge base) and <c>CanManage</c> (whether the viewer may change it).
/// </summary>
public sealed record TrainingTab(Type Component);
