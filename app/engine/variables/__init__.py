"""The workflow variable pool: values, selectors, `{{#node.var#}}` templates, conditions."""
