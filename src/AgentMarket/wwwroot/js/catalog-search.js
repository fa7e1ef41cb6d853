// Search-as-you-type suggestions for the marketplace search box: fills the input's <datalist> from
// GET /api/marketplace/suggestions/?q=…, at most one request in flight and none for a pause under 150 ms.
const input = document.querySelector("input[data-suggest]");
if (input && input.list) {
  let timer;
  let controller;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value;
    if (query.trim().length < 2) {
      input.list.replaceChildren();
      return;
    }
    timer = setTimeout(async () => {
      controller?.abort();
      controller = new AbortController();
      try {
        const response = await fetch(`${input.dataset.suggest}?q=${encodeURIComponent(query)}`, { signal: controller.signal });
        if (!response.ok) return;
        const suggestions = await response.json();
        input.list.replaceChildren(...suggestions.map((s) => {
          const option = document.createElement("option");
          option.value = s.name;
          return option;
        }));
      } catch (error) {
        if (error.name !== "AbortError") throw error;
      }
    }, 150);
  });
}
