// The collapsed condition block reads as a sentence: "Holds any of Products, Events ·
// receives Newsletter". Wagtail asks a block for its text label when it collapses or changes.
(() => {
  const { StructBlockDefinition } = window.wagtailStreamField.blocks;

  const truncate = (text, maxLength) =>
    maxLength && text.length > maxLength ? `${text.substring(0, maxLength - 1)}…` : text;

  const chosenLabel = (child) => (child.getValue() ? child.getTextLabel() : '');

  // Read from the ticked boxes: not every Wagtail version labels a list of checkboxes.
  const tickedLabels = (name) =>
    Array.from(document.querySelectorAll(`input[name="${name}"]:checked`), (input) =>
      input.closest('label').textContent.trim(),
    ).join(', ');

  class ConditionBlockDefinition extends StructBlockDefinition {
    render(placeholder, prefix, initialState, initialError) {
      const block = super.render(placeholder, prefix, initialState, initialError);
      const { summary } = this.meta;
      block.getTextLabel = (opts) => {
        const { rule, category, segment } = block.childBlocks;
        const parts = [];
        const held = tickedLabels(`${prefix}-preferences`);
        if (held) parts.push(`${rule.getTextLabel()} ${held}`);
        const categoryName = chosenLabel(category);
        if (categoryName) parts.push(summary.category.replace('%s', categoryName));
        const segmentName = chosenLabel(segment);
        if (segmentName) parts.push(summary.segment.replace('%s', segmentName));
        return truncate(parts.join(' · ') || summary.everyone, opts && opts.maxLength);
      };
      // From Wagtail 8 the condition's own collapsible panel is titled by its layout.
      if (block.layout) {
        block.layout.getTextLabel = block.getTextLabel;
        if (block.layout.setCollapsedLabelText) block.layout.setCollapsedLabelText();
      }
      return block;
    }
  }

  window.telepath.register('wagtail_preferences.blocks.ConditionBlock', ConditionBlockDefinition);
})();
