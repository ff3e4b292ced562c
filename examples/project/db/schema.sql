-- The orders service's database, for `planvec managers run schemas --dsn ...` in the demo.
CREATE SCHEMA IF NOT EXISTS orders;
COMMENT ON SCHEMA orders IS 'orders service';

CREATE TABLE orders.customers (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL,
    country char(2),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.customers IS 'people who buy from the shop';
COMMENT ON COLUMN orders.customers.email IS 'login and contact address';

CREATE TABLE orders.products (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);
COMMENT ON TABLE orders.products IS 'the catalogue of things for sale';

CREATE TABLE orders.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES orders.customers(id),
    status text NOT NULL DEFAULT 'new',
    placed_at timestamptz NOT NULL DEFAULT now(),
    shipped_at timestamptz
);
COMMENT ON COLUMN orders.orders.customer_id IS 'who placed the order';
COMMENT ON COLUMN orders.orders.status IS 'new, paid, shipped or cancelled';
CREATE INDEX orders_customer_idx ON orders.orders (customer_id);

CREATE TABLE orders.order_items (
    order_id bigint NOT NULL REFERENCES orders.orders(id) ON DELETE CASCADE,
    product_id integer NOT NULL REFERENCES orders.products(id),
    quantity integer NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, product_id)
);
COMMENT ON TABLE orders.order_items IS 'the lines of an order';

CREATE TABLE orders.backups (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    target text NOT NULL
);
COMMENT ON TABLE orders.backups IS 'nightly database backup runs and where they were written';
