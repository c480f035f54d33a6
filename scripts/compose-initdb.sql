-- Run once by the postgres image when docker-compose.yml's database is
-- first created: the role the app and the worker log in as (the
-- migrations create it without a password when it does not exist, and
-- grant it what it may do). A database created before this file needs
-- ALTER ROLE reciproca_app LOGIN PASSWORD 'reciproca_app', or `docker
-- compose down -v` to start afresh.
CREATE ROLE reciproca_app LOGIN PASSWORD 'reciproca_app';
