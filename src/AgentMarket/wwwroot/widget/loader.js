// The chat widget's loader, the one file a page embeds:
//   <script src="https://HOST/widget.js" data-agent-key="am_pub_…" async></script>
// (or, on the marketplace's own agent page, data-agent="{slug}": the playground). It is cached for minutes and imports
// the widget itself, a file named by its content's hash and cached for a year.
(() => {
  const script = document.currentScript;
  if (!script || !(script.dataset.agentKey || script.dataset.agent)) return;
  import(new URL('__WIDGET_MAIN__', script.src).href)
    .then((widget) => widget.mount(script))
    .catch((error) => console.warn('Chat widget: could not load.', error));
})();
