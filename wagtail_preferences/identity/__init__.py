"""Who a contact is to the site: identity resolvers, signed tokens, the middleware, and caching."""
